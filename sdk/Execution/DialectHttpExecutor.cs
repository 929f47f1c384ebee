using System.Buffers;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using PluginProxy.Sdk.Failures;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Sdk.Execution;

/// <summary>What an HTTP request to the upstream is for.</summary>
public enum UpstreamOperation
{
    Generate,
    Stream,
    CountTokens,
}

/// <summary>
/// The common shape of a provider executor: encode the canonical request with the upstream's codec, send it, classify
/// failures, and decode the answer (SSE for streams). A provider plugin supplies the URL and auth headers and, where
/// its upstream has quirks, overrides the hooks. Passthrough sends the client's bytes to the same URL unchanged.
/// </summary>
public abstract class DialectHttpExecutor(Dialect dialect) : IExecutor
{
    protected IDialectCodec Codec { get; } = Codecs.For(dialect);

    /// <summary>The request for <paramref name="operation"/> (URL, method, auth headers). <paramref name="nativeOperation"/> is the passthrough's own operation name, if any.</summary>
    protected abstract HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query);

    /// <summary>Adjusts the encoded body before sending (for example to ask for usage in streams).</summary>
    protected virtual JsonObject PrepareBody(UpstreamCall call, ChatRequest request, JsonObject body, UpstreamOperation operation) => body;

    /// <summary>
    /// Passthrough bodies the provider must still adjust (a placeholder tool, a thinking switch): return true after editing
    /// <paramref name="body"/> (the client's JSON, model already rewritten), and the edited body is sent instead of the
    /// client's bytes. The default leaves passthrough byte-exact and never parses it.
    /// </summary>
    protected virtual bool PrepareNativeBody(UpstreamCall call, NativeRequest request, JsonObject body) => false;

    /// <summary>True when <see cref="PrepareNativeBody"/> is overridden, so the passthrough body is parsed only for such providers.</summary>
    protected virtual bool EditsNativeBodies => false;

    /// <summary>
    /// Last look at the request, body attached, before it is sent: for headers that depend on the body (Codex's session
    /// id follows the body's <c>prompt_cache_key</c>), which <see cref="CreateRequest"/> cannot see.
    /// </summary>
    protected virtual void BeforeSend(UpstreamCall call, HttpRequestMessage request)
    {
    }

    /// <summary>Turns a non-success response into a classified failure.</summary>
    protected virtual UpstreamException Classify(UpstreamCall call, HttpResponseMessage response, string body) =>
        FailureClassifier.FromResponse((int)response.StatusCode, response.Headers, body, call.Clock);

    /// <summary>Input tokens for a request; by default an estimate, for upstreams with no count endpoint.</summary>
    public virtual Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TokenEstimator.Estimate(request));

    /// <summary>The body to send: encoded, then adjusted by the provider. (The host applies the operator's payload rules on the way out.)</summary>
    private JsonObject Encode(UpstreamCall call, ChatRequest request, UpstreamOperation operation) =>
        PrepareBody(call, request, Codec.EncodeRequest(request, call.UpstreamModel), operation);

    /// <summary>True when the upstream only streams: <see cref="CompleteAsync"/> then aggregates <see cref="StreamAsync"/>.</summary>
    public virtual bool StreamsOnly => false;

    /// <summary>The most bytes a non-streaming answer may take (32 MiB).</summary>
    protected int MaxAnswerBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>How much of an error body is read and kept for classification (64 KiB); the rest is not read.</summary>
    protected int MaxErrorBodyBytes { get; init; } = 64 * 1024;

    /// <summary>The most bytes one SSE line, or the data of one event, may take (16 MiB).</summary>
    protected int MaxStreamEventBytes { get; init; } = SseReader.DefaultMaxEventBytes;

    public virtual async Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        if (StreamsOnly) return await StreamAggregator.AggregateAsync(StreamAsync(call, request, cancellationToken), cancellationToken).ConfigureAwait(false);
        var body = Encode(call, request, UpstreamOperation.Generate);
        using var response = await SendAsync(call, UpstreamOperation.Generate, null, null, JsonContent(body), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var (buffer, length) = await ReadBoundedAsync(response.Content, MaxAnswerBytes, truncate: false, cancellationToken).ConfigureAwait(false);
        try
        {
            // Read in place: the codec copies what the answer keeps before the document and the buffer go back.
            using var json = LenientJson.TryParse(buffer.AsMemory(0, length));
            if (json is null || json.RootElement.ValueKind == JsonValueKind.Null)
                throw new UpstreamException(FailureKind.Transient, 502, "upstream returned a body that is not JSON");
            return Codec.DecodeResponse(json.RootElement);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Decodes the upstream's SSE as it arrives. A stream that ends before the upstream's own end of stream (see
    /// <see cref="IStreamDecoder.EndedCleanly"/>) throws a transient <see cref="UpstreamException"/> instead of
    /// completing, so a cut answer never passes for a whole one.
    /// </summary>
    public virtual async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var body = Encode(call, request, UpstreamOperation.Stream);
        using var response = await SendAsync(call, UpstreamOperation.Stream, null, null, JsonContent(body), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in SseDecoding.DecodeAsync(stream, Codec.CreateStreamDecoder(), MaxStreamEventBytes, cancellationToken).ConfigureAwait(false))
            yield return e;
    }

    /// <summary>
    /// Passthrough: the client's bytes to the same URL. Virtual for upstreams whose native bodies still need the provider's
    /// rules (Codex: <c>store:false</c>, always streaming) or whose non-streaming answers must be built from a stream.
    /// </summary>
    public virtual async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        if (EditsNativeBodies && request.Operation is null && ParseObject(request.Body) is { } json && PrepareNativeBody(call, request, json))
            request = new NativeRequest { Body = JsonText.SerializeToUtf8(json), Stream = request.Stream, Operation = request.Operation, Query = request.Query };
        var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json"); // written as is; no parsed header object per request
        var operation = request.Operation == "countTokens" || request.Operation == "count_tokens"
            ? UpstreamOperation.CountTokens
            : request.Stream ? UpstreamOperation.Stream : UpstreamOperation.Generate;
        var response = await SendAsync(call, operation, request.Operation, request.Query, content, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new NativeResponse((int)response.StatusCode, RawContentType(response), body, RelayedHeadersOf(response), response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    // Rate-limit and request-id headers are useful to clients; hop-by-hop and auth-related ones are not relayed.
    private static readonly string[] RelayedHeaders =
    [
        "x-request-id", "request-id", "openai-processing-ms", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-tokens-remaining",
        "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "retry-after",
    ];

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    /// <summary>
    /// The relayed headers as the upstream sent them: looked up by name without validating (parsing) the others, and
    /// no dictionary at all when there are none.
    /// </summary>
    private static IReadOnlyDictionary<string, string> RelayedHeadersOf(HttpResponseMessage response)
    {
        Dictionary<string, string>? headers = null;
        var all = response.Headers.NonValidated;
        foreach (var name in RelayedHeaders)
            if (all.TryGetValues(name, out var values) && Relayable(values.Count == 1 ? values.ToString() : string.Join(",", values)) is { } value)
                (headers ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase))[name] = value;
        return headers ?? NoHeaders;
    }

    /// <summary>The upstream's Content-Type as sent (relayed, not interpreted); dropped when it is not plain text.</summary>
    private static string? RawContentType(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var values) ? Relayable(values.ToString()) : null;

    /// <summary>
    /// A raw header value fit to relay: printable ASCII and tabs only. Anything else (a control character, a line
    /// break) is dropped, as header validation used to drop it, rather than failing the answer when it is set.
    /// </summary>
    private static string? Relayable(string value)
    {
        foreach (var c in value)
            if (c is (< ' ' and not '\t') or > '~') return null;
        return value;
    }

    /// <summary>Sends and returns a success response; throws a classified <see cref="UpstreamException"/> otherwise (the response is disposed).</summary>
    protected async Task<HttpResponseMessage> SendAsync(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query,
        HttpContent content, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = CreateRequest(call, operation, nativeOperation, query);
        request.Content = content;
        BeforeSend(call, request);
        HttpResponseMessage response;
        try
        {
            response = await call.Http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw FailureClassifier.FromTransport(e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw FailureClassifier.FromTransport(e);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            // Only the start of an error body is kept: enough to classify it, never a reason to run out of memory.
            var (buffer, length) = await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, truncate: true, cancellationToken).ConfigureAwait(false);
            string body;
            try
            {
                body = Encoding.UTF8.GetString(buffer.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            throw Classify(call, response, body);
        }
    }

    /// <summary>
    /// Reads a body into a pooled buffer (the caller returns it), at most <paramref name="limit"/> bytes: beyond it the
    /// rest is left unread and, unless <paramref name="truncate"/>, a transient 502 is thrown. A broken connection is
    /// classified as a transport failure, as it was when the body was buffered inside <c>SendAsync</c>.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBoundedAsync(HttpContent content, int limit, bool truncate, CancellationToken cancellationToken)
    {
        if (!truncate && content.Headers.ContentLength > limit) throw TooLarge(limit);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(content.Headers.ContentLength ?? 16 * 1024, 256), (long)limit + 1));
        var length = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                // One byte past the limit tells "exactly at the limit" from "over it".
                var read = await stream.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0) return (buffer, length);
                length += read;
                if (length > limit)
                {
                    if (!truncate) throw TooLarge(limit);
                    return (buffer, limit);
                }
            }
        }
        catch (Exception e)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (e is IOException or HttpRequestException) throw FailureClassifier.FromTransport(e);
            throw;
        }
    }

    private static UpstreamException TooLarge(int limit) =>
        new(FailureKind.Transient, 502, $"upstream answer exceeds {Sizes.Describe(limit)}");

    private static ByteArrayContent JsonContent(JsonObject body)
    {
        var content = new ByteArrayContent(JsonText.SerializeToUtf8(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static JsonObject? ParseObject(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return JsonNode.Parse(bytes.Span) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // not the provider's to judge: the upstream answers it
        }
    }

    /// <summary>
    /// Joins a base URL and a path without doubling or dropping the slash. The result is cached (a <see cref="Uri"/> is
    /// immutable and parsing one costs more than the rest of building a request); the cache stops growing at
    /// <see cref="MaxCachedUris"/> entries, after which new combinations are parsed each time.
    /// </summary>
    protected static Uri Combine(string baseUrl, string path)
    {
        if (Uris.TryGetValue((baseUrl, path), out var cached)) return cached;
        var uri = new Uri(baseUrl.TrimEnd('/') + "/" + path.TrimStart('/'));
        if (Uris.Count < MaxCachedUris) Uris.TryAdd((baseUrl, path), uri);
        return uri;
    }

    private const int MaxCachedUris = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), Uri> Uris = new();
}
