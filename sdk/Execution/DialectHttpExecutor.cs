using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using PluginProxy.Sdk.Failures;

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

    /// <summary>Turns a non-success response into a classified failure.</summary>
    protected virtual UpstreamException Classify(UpstreamCall call, HttpResponseMessage response, string body) =>
        FailureClassifier.FromResponse((int)response.StatusCode, response.Headers, body, call.Clock);

    /// <summary>Input tokens for a request; by default an estimate, for upstreams with no count endpoint.</summary>
    public virtual Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TokenEstimator.Estimate(request));

    /// <summary>The body to send: encoded, then adjusted by the provider. (The host applies the operator's payload rules on the way out.)</summary>
    private JsonObject Encode(UpstreamCall call, ChatRequest request, UpstreamOperation operation) =>
        PrepareBody(call, request, Codec.EncodeRequest(request, call.UpstreamModel), operation);

    public async Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        var body = Encode(call, request, UpstreamOperation.Generate);
        using var response = await SendAsync(call, UpstreamOperation.Generate, null, null, JsonContent(body), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var json = JsonText.TryParse(text) ?? throw new UpstreamException(FailureKind.Transient, 502, "upstream returned a body that is not JSON");
        return Codec.DecodeResponse(json);
    }

    public async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var body = Encode(call, request, UpstreamOperation.Stream);
        using var response = await SendAsync(call, UpstreamOperation.Stream, null, null, JsonContent(body), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var decoder = Codec.CreateStreamDecoder();
        var output = new List<StreamEvent>();
        await foreach (var sse in SseReader.ReadAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            decoder.Decode(sse, output);
            foreach (var e in output) yield return e;
            output.Clear();
        }
        decoder.Complete(output);
        foreach (var e in output) yield return e;
    }

    public async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var operation = request.Operation == "countTokens" || request.Operation == "count_tokens"
            ? UpstreamOperation.CountTokens
            : request.Stream ? UpstreamOperation.Stream : UpstreamOperation.Generate;
        var response = await SendAsync(call, operation, request.Operation, request.Query, content, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers)
            if (RelayedHeaders.Contains(name)) headers[name] = string.Join(",", values);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new NativeResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, headers, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    // Rate-limit and request-id headers are useful to clients; hop-by-hop and auth-related ones are not relayed.
    private static readonly HashSet<string> RelayedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "x-request-id", "request-id", "openai-processing-ms", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-tokens-remaining",
        "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "retry-after",
    };

    /// <summary>Sends and returns a success response; throws a classified <see cref="UpstreamException"/> otherwise (the response is disposed).</summary>
    protected async Task<HttpResponseMessage> SendAsync(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query,
        HttpContent content, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = CreateRequest(call, operation, nativeOperation, query);
        request.Content = content;
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
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw Classify(call, response, body);
        }
    }

    private static ByteArrayContent JsonContent(JsonObject body)
    {
        var content = new ByteArrayContent(JsonText.SerializeToUtf8(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Joins a base URL and a path without doubling or dropping the slash.</summary>
    protected static Uri Combine(string baseUrl, string path) => new(baseUrl.TrimEnd('/') + "/" + path.TrimStart('/'));
}
