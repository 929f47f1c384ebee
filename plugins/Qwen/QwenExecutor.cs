using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.Qwen;

/// <summary>
/// <c>POST {base}/chat/completions</c> with the account's access token. The base is, first found: the credential's
/// <c>base_url</c>, the <c>api-url</c> setting, <c>https://{resource_url}/v1</c> from the login, Qwen's portal.
/// Qwen's API expects the Gemini CLI's client identity headers, and its streams degrade without any tool declared, so
/// streams always declare at least a placeholder tool.
/// </summary>
internal sealed class QwenExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
{
    public const string DefaultBaseUrl = "https://portal.qwen.ai/v1";
    public const string PlaceholderTool = "do_not_call_me";

    internal static readonly IReadOnlyDictionary<string, string> IdentityHeaders = new Dictionary<string, string>
    {
        ["User-Agent"] = "google-api-nodejs-client/9.15.1",
        ["X-Goog-Api-Client"] = "gl-node/22.17.0",
        ["Client-Metadata"] = "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI",
    };

    public static string BaseUrlFor(CredentialRecord credential, PluginSettings settings)
    {
        if (credential.BaseUrl is { } configured) return configured;
        if (settings.GetString("api-url") is { } apiUrl) return apiUrl;
        if (credential.GetString("resource_url") is { Length: > 0 } resource)
        {
            var url = resource.Contains("://", StringComparison.Ordinal) ? resource.TrimEnd('/') : "https://" + resource.Trim().TrimEnd('/');
            return url.EndsWith("/v1", StringComparison.Ordinal) ? url : url + "/v1";
        }
        return DefaultBaseUrl;
    }

    protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
    {
        var token = call.Credential.GetString("access_token") is { Length: > 0 } access ? access : call.Credential.ApiKey;
        if (string.IsNullOrEmpty(token))
            throw new UpstreamException(FailureKind.AuthRevoked, 401, $"the Qwen credential {call.Credential.Label} has no access_token; run login qwen")
            {
                Scope = FailureScope.Credential,
            };
        var request = new HttpRequestMessage(HttpMethod.Post, Combine(BaseUrlFor(call.Credential, call.Settings), "chat/completions"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        foreach (var (name, value) in IdentityHeaders)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(operation == UpstreamOperation.Stream ? "text/event-stream" : "application/json"));
        return request;
    }

    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation)
    {
        Adjust(body, operation == UpstreamOperation.Stream);
        return body;
    }

    /// <summary>What every body sent to Qwen gets, translated or passed through.</summary>
    internal static void Adjust(JsonObject body, bool stream)
    {
        if (!stream)
        {
            body.Remove("stream");
            body.Remove("stream_options");
            return;
        }
        body["stream"] = true;
        if (body["stream_options"] is not JsonObject options) body["stream_options"] = options = new JsonObject();
        options["include_usage"] = true;
        if (body["tools"] is not JsonArray { Count: > 0 })
            body["tools"] = new JsonArray(Placeholder());
    }

    // Qwen3 streams without any declared tool sometimes emit stray tokens; a tool the model is told never to call avoids it.
    private static JsonObject Placeholder() => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = PlaceholderTool,
            ["description"] = "Placeholder. Never call this function.",
            ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
        },
    };

    public override Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TokenCounter.Count(request));

    // Passthrough too: the client's own chat body still needs the stream adjustments.
    protected override bool EditsNativeBodies => true;

    protected override bool PrepareNativeBody(UpstreamCall call, NativeRequest request, JsonObject body)
    {
        Adjust(body, request.Stream);
        return true;
    }
}
