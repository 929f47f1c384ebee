using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.AIStudio.Upstream;

/// <summary>
/// Generative Language v1beta requests (<c>models/{model}:{method}</c>), which the relay client performs inside its
/// signed-in browser session: no key travels from the proxy. The request reaches the relay through the plugin's
/// transport (<see cref="AIStudioPlugin.TransportFor"/>), so the host's headers, payload rules and timeouts still apply.
/// Bodies drop what the AI Studio Build session does not take (CLIProxyAPI's rules): <c>generationConfig.maxOutputTokens</c>,
/// <c>responseMimeType</c>, <c>responseJsonSchema</c> and <c>session_id</c>.
/// </summary>
internal sealed class AIStudioExecutor() : DialectHttpExecutor(Dialect.Gemini)
{
    public const string BaseUrl = "https://generativelanguage.googleapis.com";

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
        if (operation == UpstreamOperation.CountTokens) q = null;
        var url = Combine(BaseUrl, $"v1beta/models/{Uri.EscapeDataString(call.UpstreamModel)}:{method}").ToString() + (string.IsNullOrEmpty(q) ? "" : "?" + q.TrimStart('?'));
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(operation == UpstreamOperation.Stream && q?.Contains("alt=sse", StringComparison.Ordinal) == true
            ? "text/event-stream"
            : "application/json"));
        return request;
    }

    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation)
    {
        Strip(body);
        return body;
    }

    /// <summary>Gemini clients pass through, minus what the AI Studio session does not take (count tokens: also settings and tools).</summary>
    public override Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        if (Parse(request.Body) is { } json && (Strip(json) | (request.Operation == "countTokens" && StripForCount(json))))
            request = new NativeRequest { Body = JsonText.SerializeToUtf8(json), Stream = request.Stream, Operation = request.Operation, Query = request.Query };
        return base.SendNativeAsync(call, request, cancellationToken);
    }

    private static JsonObject? Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // the upstream answers it
        }
    }

    /// <summary>The upstream's own count: the request without generation settings, tools and safety settings; zero is a failure.</summary>
    public override async Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        var body = Codec.EncodeRequest(request, call.UpstreamModel);
        Strip(body);
        StripForCount(body);
        var content = new ByteArrayContent(JsonText.SerializeToUtf8(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await SendAsync(call, UpstreamOperation.CountTokens, null, null, content, HttpCompletionOption.ResponseContentRead, cancellationToken)
            .ConfigureAwait(false);
        var json = JsonText.TryParse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)) as JsonObject;
        return json?["totalTokens"] is JsonValue total && total.TryGetValue<long>(out var n) && n > 0
            ? n
            : throw new UpstreamException(FailureKind.Transient, 502, "the AI Studio relay answered countTokens without totalTokens");
    }

    private static bool StripForCount(JsonObject body) =>
        body.Remove("generationConfig") | body.Remove("tools") | body.Remove("toolConfig") | body.Remove("safetySettings");

    private static bool Strip(JsonObject body)
    {
        var changed = body.Remove("session_id");
        if (body["generationConfig"] is JsonObject generation)
        {
            changed |= generation.Remove("maxOutputTokens");
            changed |= generation.Remove("responseMimeType");
            changed |= generation.Remove("responseJsonSchema");
        }
        return changed;
    }
}
