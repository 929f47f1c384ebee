using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// <c>POST {base}/chat/completions</c> with the account's API key (not its OAuth token). The base is the credential's
/// <c>base_url</c>, else the <c>api-url</c> setting, else <c>https://apis.iflow.cn/v1</c>. Thinking is switched per
/// model family (see <see cref="IFlowThinking"/>), from the <c>reasoning_effort</c> the body carries.
/// </summary>
internal sealed class IFlowExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
{
    public const string DefaultBaseUrl = "https://apis.iflow.cn/v1";
    public const string PlaceholderTool = "noop";

    protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
    {
        var key = call.Credential.ApiKey;
        if (string.IsNullOrEmpty(key))
            throw new UpstreamException(FailureKind.AuthRevoked, 401, $"the iFlow credential {call.Credential.Label} has no api_key; run login iflow")
            {
                Scope = FailureScope.Credential,
            };
        var baseUrl = call.Credential.BaseUrl ?? call.Settings.GetString("api-url", DefaultBaseUrl);
        var request = new HttpRequestMessage(HttpMethod.Post, Combine(baseUrl, "chat/completions"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Remove("User-Agent");
        request.Headers.TryAddWithoutValidation("User-Agent", "iFlow-Cli");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(operation == UpstreamOperation.Stream ? "text/event-stream" : "application/json"));
        return request;
    }

    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation)
    {
        Adjust(body, call.UpstreamModel, operation == UpstreamOperation.Stream);
        return body;
    }

    /// <summary>What every body sent to iFlow gets, translated or passed through.</summary>
    internal static void Adjust(JsonObject body, string model, bool stream)
    {
        IFlowThinking.Apply(body, model);
        if (!stream)
        {
            body.Remove("stream");
            body.Remove("stream_options");
            return;
        }
        body["stream"] = true;
        if (body["stream_options"] is not JsonObject options) body["stream_options"] = options = new JsonObject();
        options["include_usage"] = true;
        // iFlow rejects a stream whose tools list is empty; a placeholder keeps the client's intent (no usable tools).
        if (body["tools"] is JsonArray { Count: 0 })
            body["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = PlaceholderTool,
                    ["description"] = "Placeholder. Never call this function.",
                    ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                },
            });
    }

    public override Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TokenCounter.Count(request));

    // Passthrough too: a chat client's own body still needs the thinking switch and the stream adjustments.
    protected override bool EditsNativeBodies => true;

    protected override bool PrepareNativeBody(UpstreamCall call, NativeRequest request, JsonObject body)
    {
        Adjust(body, call.UpstreamModel, request.Stream);
        return true;
    }
}

/// <summary>
/// iFlow's models take no <c>reasoning_effort</c>; each family has its own switch. GLM, qwen3-max-preview and
/// DeepSeek V3.1/V3.2 use <c>chat_template_kwargs.enable_thinking</c> (GLM also <c>clear_thinking: false</c>, so earlier
/// reasoning stays in context); MiniMax uses <c>reasoning_split</c>. Other models get the body as it is. A request
/// without reasoning settings leaves the model's default alone.
/// </summary>
internal static class IFlowThinking
{
    public enum Family
    {
        None,
        TemplateKwargs,
        Glm,
        MiniMax,
    }

    public static Family FamilyOf(string model)
    {
        var m = model.ToLowerInvariant();
        if (m.StartsWith("glm", StringComparison.Ordinal)) return Family.Glm;
        if (m.StartsWith("minimax", StringComparison.Ordinal)) return Family.MiniMax;
        return m is "qwen3-max-preview" or "deepseek-v3.2" or "deepseek-v3.1" ? Family.TemplateKwargs : Family.None;
    }

    public static void Apply(JsonObject body, string model)
    {
        var family = FamilyOf(model);
        if (family == Family.None) return;
        if (body["reasoning_effort"] is not JsonValue effortValue || !effortValue.TryGetValue<string>(out var effort)) return;
        body.Remove("reasoning_effort");
        var enabled = !string.Equals(effort, "none", StringComparison.OrdinalIgnoreCase);
        if (family == Family.MiniMax)
        {
            body["reasoning_split"] = enabled;
            return;
        }
        if (body["chat_template_kwargs"] is not JsonObject kwargs) body["chat_template_kwargs"] = kwargs = new JsonObject();
        kwargs["enable_thinking"] = enabled;
        if (family == Family.Glm && enabled) kwargs["clear_thinking"] = false;
    }
}
