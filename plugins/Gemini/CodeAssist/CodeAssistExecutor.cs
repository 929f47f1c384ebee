using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using PluginProxy.Plugins.Gemini.Body;
using PluginProxy.Plugins.Gemini.Upstream;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// Gemini CLI accounts: Google's Code Assist API (<c>{code-assist-url}/v1internal:generateContent</c>,
/// <c>:streamGenerateContent?alt=sse</c>, <c>:countTokens</c>) with the OAuth bearer token of the credential file.
/// Requests travel in the envelope <c>{"model", "project", "request": &lt;generateContent body&gt;}</c>; answers come back
/// as <c>{"response": &lt;GenerateContentResponse&gt;, "traceId"}</c>, SSE events alike. Gemini clients' bodies are wrapped
/// and the answers unwrapped on the fly, so they see the Generative Language API's own shapes and framing.
/// </summary>
internal sealed class CodeAssistExecutor : IExecutor
{
    private readonly Translated _translated;

    public CodeAssistExecutor(IReadOnlyList<ModelInfo> catalog) => _translated = new Translated(catalog);

    public Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        _translated.CompleteAsync(call, request, cancellationToken);

    public IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        _translated.StreamAsync(call, request, cancellationToken);

    public Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        _translated.CountTokensAsync(call, request, cancellationToken);

    public async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        if (JsonText.TryParse(Encoding.UTF8.GetString(request.Body.Span)) is not JsonObject body)
            throw new UpstreamException(FailureKind.ClientError, 400, "The request body is not a JSON object.");
        if (body["request"] is JsonObject enveloped && !body.ContainsKey("contents")) body = (JsonObject)enveloped.DeepClone();
        var counting = request.Operation == "countTokens";
        var operation = counting ? UpstreamOperation.CountTokens : request.Stream ? UpstreamOperation.Stream : UpstreamOperation.Generate;
        var envelope = counting ? CountEnvelope(call, body) : Envelope(call, body);
        var response = await _translated.SendRawAsync(call, operation, GeminiApiExecutor.Json(envelope),
            operation == UpstreamOperation.Stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (operation != UpstreamOperation.Stream)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var bytes = JsonText.TryParse(text) is JsonObject json && json["response"] is JsonObject inner
                    ? JsonText.SerializeToUtf8(inner)
                    : Encoding.UTF8.GetBytes(text);
                return new NativeResponse(200, "application/json", new MemoryStream(bytes), headers, response);
            }
            var upstream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var sse = request.Query?.Contains("alt=sse", StringComparison.Ordinal) == true;
            var body2 = new ChunkStream(ct => Unwrap(upstream, sse, ct));
            return new NativeResponse(200, sse ? "text/event-stream" : "application/json", body2, headers, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Code Assist SSE unwrapped into Gemini's SSE, or into Gemini's JSON-array framing for clients that asked without <c>alt=sse</c>.</summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Unwrap(Stream upstream, bool sse, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var first = true;
        if (!sse) yield return "["u8.ToArray();
        await foreach (var e in SseReader.ReadAsync(upstream, cancellationToken).ConfigureAwait(false))
        {
            if (e.IsDone || e.IsBlank) continue;
            yield return Frame(Inner(e.Utf8Data), sse ? "data: "u8 : first ? ""u8 : ",\r\n"u8, sse ? "\r\n\r\n"u8 : ""u8);
            first = false;
        }
        if (!sse) yield return "]"u8.ToArray();
    }

    /// <summary>
    /// The <c>response</c> object of an event, as the upstream wrote it (one line, as Google sends it); compacted when it
    /// spans lines, which would break the framing. An event without one passes unchanged.
    /// </summary>
    private static ReadOnlySpan<byte> Inner(ReadOnlyMemory<byte> data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("response"u8, out var inner) || inner.ValueKind != JsonValueKind.Object)
                return data.Span;
            // A document parsed from memory reads it in place: the raw value is a slice of data, which outlives it.
            var raw = JsonMarshal.GetRawUtf8Value(inner);
            return raw.IndexOfAny((byte)'\r', (byte)'\n') < 0 ? raw : Encoding.UTF8.GetBytes(JsonText.Serialize(inner));
        }
        catch (JsonException)
        {
            return data.Span;
        }
    }

    private static byte[] Frame(ReadOnlySpan<byte> json, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        var frame = new byte[before.Length + json.Length + after.Length];
        before.CopyTo(frame);
        json.CopyTo(frame.AsSpan(before.Length));
        after.CopyTo(frame.AsSpan(before.Length + json.Length));
        return frame;
    }

    private static JsonObject Envelope(UpstreamCall call, JsonObject request)
    {
        request.Remove("model");
        var envelope = new JsonObject { ["model"] = call.UpstreamModel };
        if (CodeAssistAccount.Project(call.Credential) is { } project) envelope["project"] = project;
        envelope["request"] = request;
        return envelope;
    }

    /// <summary>What the Gemini CLI sends to count: the model and the contents only.</summary>
    private static JsonObject CountEnvelope(UpstreamCall call, JsonObject body)
    {
        var source = body["generateContentRequest"] as JsonObject ?? body;
        return new JsonObject
        {
            ["request"] = new JsonObject
            {
                ["model"] = "models/" + call.UpstreamModel,
                ["contents"] = source["contents"]?.DeepClone() ?? new JsonArray(),
            },
        };
    }

    /// <summary>The translated path: the Gemini codec's body, shaped, then wrapped; answers are unwrapped by the codec itself.</summary>
    private sealed class Translated(IReadOnlyList<ModelInfo> catalog) : GeminiApiExecutor(catalog)
    {
        protected override string BaseUrl(UpstreamCall call) => GeminiSettings.Get(call.Settings, "code-assist-url", GeminiSettings.CodeAssistUrl);

        protected override string ModelPath(UpstreamCall call) => "v1internal";

        protected override void Authorize(UpstreamCall call, HttpRequestMessage request)
        {
            var token = CodeAssistAccount.AccessToken(call.Credential)
                ?? throw new UpstreamException(FailureKind.AuthRevoked, 401, $"The Gemini CLI credential {call.Credential.Label} has no access token; run login gemini again.")
                { Scope = FailureScope.Credential };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            CodeAssistHeaders.Apply(request, call.Settings);
        }

        protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation) =>
            Envelope(call, base.PrepareBody(call, request, body, operation));

        public override Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
            CountAsync(call, CountEnvelope(call, Codec.EncodeRequest(request, call.UpstreamModel)), cancellationToken);
    }
}
