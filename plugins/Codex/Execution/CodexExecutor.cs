using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using PluginProxy.Sdk.Execution;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Plugins.Codex.Execution;

/// <summary>
/// Calls <c>{base}/responses</c> of the Codex backend (or an API-key entry's base URL), which answers only as a stream:
/// non-streaming clients of any dialect get the stream aggregated, and a stream that ends before
/// <c>response.completed</c> is a failure, never a short answer. Passthrough (Responses clients) gets the same body
/// rules; <c>compact</c> is the native operation for <c>/responses/compact</c>.
/// </summary>
internal sealed class CodexExecutor() : DialectHttpExecutor(Dialect.OpenAIResponses)
{
    /// <summary>The passthrough operation for <c>POST /v1/responses/compact</c>.</summary>
    public const string CompactOperation = "compact";

    public override bool StreamsOnly => true;

    private static string BaseUrl(UpstreamCall call) =>
        string.IsNullOrWhiteSpace(call.Credential.BaseUrl) ? CodexSettings.ApiUrl(call.Settings) : call.Credential.BaseUrl;

    protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
    {
        var compact = nativeOperation == CompactOperation;
        var request = new HttpRequestMessage(HttpMethod.Post, Combine(BaseUrl(call), compact ? "responses/compact" : "responses"));
        CodexHeaders.Apply(request, call, stream: !compact);
        return request;
    }

    protected override void BeforeSend(UpstreamCall call, HttpRequestMessage request) =>
        CodexHeaders.ApplySession(request, call, (request.Content as CodexContent)?.CacheKey);

    protected override UpstreamException Classify(UpstreamCall call, HttpResponseMessage response, string body) =>
        CodexFailures.FromResponse((int)response.StatusCode, response.Headers, body, call.Clock);

    /// <summary>Translated requests: the encoded Responses body, made into what the backend accepts.</summary>
    protected override JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation)
    {
        // `user` is a Claude client's metadata.user_id here: the backend does not take it, but it keys the prompt cache.
        var user = body["user"] is JsonValue u && u.GetValueKind() == JsonValueKind.String ? u.GetValue<string>() : null;
        body.Remove("user");
        if (body["prompt_cache_key"] is null && CodexHeaders.SessionHint(call) is null && !string.IsNullOrEmpty(user))
            body["prompt_cache_key"] = CodexBody.DerivedKey(call.UpstreamModel, user);
        // Thinking asked for in another dialect comes back as summaries, which every codec can show.
        if (body["reasoning"] is JsonObject reasoning && reasoning["summary"] is null && reasoning["effort"]?.ToString() != "none")
            reasoning["summary"] = "auto";
        CodexBody.ApplyResponses(body, call.UpstreamModel, CodexHeaders.SessionHint(call));
        return body;
    }

    public override async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var body = PrepareBody(call, request, Codec.EncodeRequest(request, call.UpstreamModel), UpstreamOperation.Stream);
        using var response = await SendAsync(call, UpstreamOperation.Stream, null, null, CodexContent.Of(body), HttpCompletionOption.ResponseHeadersRead, cancellationToken)
            .ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var events = SseDecoding.DecodeAsync(stream, Codec.CreateStreamDecoder(), MaxStreamEventBytes, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync().ConfigureAwait(false)) yield break;
            }
            catch (UpstreamException failure) when (CodexFailures.FromDecodedFailure(failure, call.Clock) is { } codex)
            {
                throw codex; // a usage limit inside a translated stream cools the account until its reset, not one model for a minute
            }
            yield return events.Current;
        }
    }

    /// <summary>
    /// Passthrough: the client's body under the same rules, always streamed upstream. A streaming client gets the bytes as
    /// they come, watched for the terminal event; a non-streaming one gets <c>response.completed</c>'s response object.
    /// </summary>
    public override async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        if (JsonNode.Parse(request.Body.Span) is not JsonObject body)
            throw new UpstreamException(FailureKind.ClientError, 400, "The request body must be a JSON object.");
        if (request.Operation == CompactOperation)
        {
            CodexBody.ApplyCompact(body, call.UpstreamModel);
            var compact = await SendAsync(call, UpstreamOperation.Generate, CompactOperation, null, CodexContent.Of(body), HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
            return await RelayAsync(compact, stream => stream, cancellationToken).ConfigureAwait(false);
        }
        var key = CodexBody.ApplyResponses(body, call.UpstreamModel, CodexHeaders.SessionHint(call));
        var response = await SendAsync(call, UpstreamOperation.Stream, request.Operation, null, CodexContent.Of(body, key), HttpCompletionOption.ResponseHeadersRead, cancellationToken)
            .ConfigureAwait(false);
        if (request.Stream) return await RelayAsync(response, stream => new CompletionWatchStream(stream), cancellationToken).ConfigureAwait(false);
        using (response)
        {
            var answer = await AggregateAsync(call, response, cancellationToken).ConfigureAwait(false);
            var bytes = JsonText.SerializeToUtf8(answer);
            return new NativeResponse(200, "application/json", new MemoryStream(bytes, writable: false), RelayedHeaders(response));
        }
    }

    private static async Task<NativeResponse> RelayAsync(HttpResponseMessage response, Func<Stream, Stream> wrap, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new NativeResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), wrap(body), RelayedHeaders(response), response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Reads the stream to its terminal event and returns the final response object.</summary>
    private async Task<JsonNode> AggregateAsync(UpstreamCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var sse in SseReader.ReadAsync(stream, MaxStreamEventBytes, cancellationToken).ConfigureAwait(false))
        {
            if (sse.Utf8Data.IsEmpty || sse.IsDone) continue;
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(sse.Utf8Data);
            }
            catch (JsonException)
            {
                continue;
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) continue;
                var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : sse.Event;
                switch (type)
                {
                    case "response.completed" or "response.incomplete" when root.TryGetProperty("response", out var final):
                        return JsonNode.Parse(final.GetRawText())!;
                    case "response.failed":
                        var failed = root.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("error", out var e) ? e : root;
                        throw CodexFailures.FromStreamError(failed, sse.Data, call.Clock);
                    case "error":
                        throw CodexFailures.FromStreamError(root.TryGetProperty("error", out var inner) ? inner : root, sse.Data, call.Clock);
                }
            }
        }
        throw SseDecoding.EndedEarly();
    }

    private static readonly string[] Relayed = ["x-request-id", "request-id", "openai-processing-ms", "retry-after",
        "x-codex-primary-used-percent", "x-codex-secondary-used-percent", "x-codex-primary-reset-after-seconds", "x-codex-secondary-reset-after-seconds",
        "x-codex-primary-window-minutes", "x-codex-secondary-window-minutes"];

    private static Dictionary<string, string> RelayedHeaders(HttpResponseMessage response)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Relayed)
            if (response.Headers.TryGetValues(name, out var values)) headers[name] = string.Join(",", values);
        return headers;
    }
}

/// <summary>A JSON body that remembers its prompt cache key, for the session headers set just before sending.</summary>
internal sealed class CodexContent : ByteArrayContent
{
    private CodexContent(byte[] body, string? cacheKey) : base(body)
    {
        CacheKey = cacheKey;
        Headers.ContentType = new MediaTypeHeaderValue("application/json");
    }

    public string? CacheKey { get; }

    public static CodexContent Of(JsonObject body, string? cacheKey = null) =>
        new(JsonText.SerializeToUtf8(body), cacheKey ?? (body["prompt_cache_key"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null));
}
