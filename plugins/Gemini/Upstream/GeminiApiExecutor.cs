using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Plugins.Gemini.Body;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.Gemini.Upstream;

/// <summary>
/// The Generative Language API with an API key: <c>{base}/v1beta/models/{model}:{method}</c> and <c>x-goog-api-key</c>.
/// Gemini clients pass through byte for byte, with either stream framing (the host forwards <c>alt=sse</c> only when the
/// client asked for it, so a JSON-array stream stays one). Vertex's API-key form differs only in the URL.
/// </summary>
internal class GeminiApiExecutor(IReadOnlyList<ModelInfo> catalog) : DialectHttpExecutor(Dialect.Gemini)
{
    protected virtual string BaseUrl(UpstreamCall call) =>
        call.Credential.BaseUrl ?? GeminiSettings.Get(call.Settings, "api-url", GeminiSettings.ApiUrl);

    /// <summary>The path under the base URL up to the model's method, without the leading slash.</summary>
    protected virtual string ModelPath(UpstreamCall call) => $"v1beta/models/{Uri.EscapeDataString(call.UpstreamModel)}";

    protected virtual void Authorize(UpstreamCall call, HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(call.Credential.ApiKey)) request.Headers.TryAddWithoutValidation("x-goog-api-key", call.Credential.ApiKey);
    }

    protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
    {
        var method = operation switch
        {
            UpstreamOperation.CountTokens => "countTokens",
            UpstreamOperation.Stream => "streamGenerateContent",
            _ => "generateContent",
        };
        // Passthrough forwards the client's framing; translated streams always read SSE.
        var q = nativeOperation is null ? (operation == UpstreamOperation.Stream ? "alt=sse" : null) : query;
        var url = Combine(BaseUrl(call), ModelPath(call) + ":" + method).ToString() + (string.IsNullOrEmpty(q) ? "" : "?" + q.TrimStart('?'));
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        Authorize(call, request);
        if (operation == UpstreamOperation.Stream && q?.Contains("alt=sse", StringComparison.Ordinal) == true)
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        else
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation) =>
        RequestShaper.Shape(body, GeminiCatalog.ThinkingOf(catalog, call.UpstreamModel), call.Settings);

    protected override UpstreamException Classify(UpstreamCall call, HttpResponseMessage response, string body) =>
        GeminiFailures.Classify((int)response.StatusCode, response.Headers, body, call.Clock);

    /// <summary>The upstream's own count: <c>countTokens</c> with the request as a <c>generateContentRequest</c> (so system and tools count).</summary>
    public override Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        var inner = Codec.EncodeRequest(request, call.UpstreamModel);
        inner.Remove("generationConfig");
        inner.Remove("toolConfig");
        RequestShaper.Shape(inner, null, PluginSettings.Empty);
        inner.Remove("safetySettings");
        inner["model"] = "models/" + call.UpstreamModel;
        return CountAsync(call, new JsonObject { ["generateContentRequest"] = inner }, cancellationToken);
    }

    /// <summary>Posts a countTokens body and reads <c>totalTokens</c> (also inside Code Assist's <c>response</c> wrapper).</summary>
    protected async Task<long> CountAsync(UpstreamCall call, JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(call, UpstreamOperation.CountTokens, Json(body), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var json = JsonText.TryParse(text) as JsonObject;
        if (json?["response"] is JsonObject wrapped) json = wrapped;
        return json?["totalTokens"] is JsonValue total && total.TryGetValue<long>(out var n) ? n
            : throw new UpstreamException(FailureKind.Transient, 502, "countTokens answered without totalTokens");
    }

    /// <summary>Sends a body the plugin built itself (not through the codec); non-success statuses throw, classified.</summary>
    internal Task<HttpResponseMessage> SendRawAsync(UpstreamCall call, UpstreamOperation operation, HttpContent content, HttpCompletionOption completion,
        CancellationToken cancellationToken) =>
        SendAsync(call, operation, null, null, content, completion, cancellationToken);

    internal static ByteArrayContent Json(JsonNode body)
    {
        var content = new ByteArrayContent(JsonText.SerializeToUtf8(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
