using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.OpenAICompat;

/// <summary>
/// Serves the <c>openai-compatibility</c> entries of config.yaml: any service that speaks OpenAI Chat Completions.
/// Each entry's <c>models</c> list is its catalog (there is no built-in one); requests go to
/// <c>{base-url}/chat/completions</c> with the entry's key as a bearer token and its extra headers.
/// </summary>
public sealed class OpenAICompatPlugin : IProviderPlugin
{
    public string Id => "openai-compatibility";
    public IReadOnlyList<string> CredentialTypes { get; } = ["openai-compatibility"];
    public Dialect NativeDialect => Dialect.OpenAIChat;
    public IReadOnlyList<ModelInfo> Models { get; } = [];
    public IExecutor Executor { get; } = new OpenAICompatExecutor();
    public IAuthenticator? Authenticator => null;
}

internal sealed class OpenAICompatExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
{
    protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
    {
        var baseUrl = call.Credential.BaseUrl ?? throw new InvalidOperationException($"credential {call.Credential.Id} has no base-url");
        var request = new HttpRequestMessage(HttpMethod.Post, Combine(baseUrl, "chat/completions"));
        if (!string.IsNullOrEmpty(call.Credential.ApiKey))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Credential.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(operation == UpstreamOperation.Stream ? "text/event-stream" : "application/json"));
        return request;
    }

    // Translated streams always ask for usage: clients of other dialects expect it at the end of every stream.
    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation)
    {
        if (operation == UpstreamOperation.Stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else
        {
            body.Remove("stream");
            body.Remove("stream_options");
        }
        return body;
    }
}
