using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Host.Upstream;

/// <summary>
/// The host's concerns for one upstream attempt, applied to every request a plugin sends through
/// <c>UpstreamCall.Http</c>, whatever executor it implements: the credential's configured headers (they win over the
/// plugin's), the operator's payload rules on JSON bodies, and the two timeouts — no response headers within
/// <c>timeouts.first-byte-seconds</c>, or no body bytes for <c>timeouts.stream-idle-seconds</c> — which surface as
/// transient <see cref="UpstreamException"/>s (504) so the failover loop treats them like any other upstream failure.
/// One instance per attempt over the pooled handler of the credential's proxy; never disposed (it does not own that handler).
/// </summary>
internal sealed class AttemptHandler(HttpMessageHandler pooled, AttemptConcerns concerns) : DelegatingHandler(pooled)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        foreach (var (name, configured) in concerns.Headers)
        {
            // "$Name" copies the client's header of that name; without it the header is not sent.
            if (PassthroughHeaders.ClientValue(configured, concerns.ClientHeaders) is not { } value) continue;
            request.Headers.Remove(name);
            if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is { } content)
            {
                content.Headers.Remove(name);
                content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        if (concerns.EditBody is { } edit && request.Content is { } body && IsJson(body.Headers.ContentType))
            request.Content = await EditAsync(body, edit, cancellationToken).ConfigureAwait(false);

        using var firstByte = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        firstByte.CancelAfter(concerns.FirstByteTimeout);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, firstByte.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Timeout($"The upstream did not answer within {concerns.FirstByteTimeout.TotalSeconds:0} s (timeouts.first-byte-seconds).", e);
        }
        if (concerns.PassthroughTo is { } copy && response.IsSuccessStatusCode) copy.From(response);
        if (concerns.IdleTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            response.Content = new IdleTimeoutContent(response.Content, concerns.IdleTimeout);
        }
        return response;
    }

    internal static UpstreamException Timeout(string message, Exception? inner = null) =>
        new(FailureKind.Transient, 504, message, null, null, inner);

    private static bool IsJson(MediaTypeHeaderValue? type) =>
        type?.MediaType is { } media && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static async Task<HttpContent> EditAsync(HttpContent content, Action<JsonObject> edit, CancellationToken cancellationToken)
    {
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (JsonNode.Parse(bytes) is not JsonObject json) return new ByteArrayContent(bytes) { Headers = { ContentType = content.Headers.ContentType } };
        edit(json);
        var edited = new ByteArrayContent(JsonText.SerializeToUtf8(json));
        foreach (var (name, values) in content.Headers)
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) edited.Headers.TryAddWithoutValidation(name, values);
        content.Dispose();
        return edited;
    }

    /// <summary>The response body with a deadline on every read: a silent upstream fails the attempt instead of holding it.</summary>
    private sealed class IdleTimeoutContent : HttpContent
    {
        private readonly HttpContent inner;
        private readonly TimeSpan idle;

        public IdleTimeoutContent(HttpContent inner, TimeSpan idle)
        {
            this.inner = inner;
            this.idle = idle;
            // Content headers stay readable through the wrapper.
            foreach (var (name, values) in inner.Headers) Headers.TryAddWithoutValidation(name, values);
        }

        protected override async Task<Stream> CreateContentReadStreamAsync() => new IdleTimeoutStream(await inner.ReadAsStreamAsync().ConfigureAwait(false), idle);
        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new IdleTimeoutStream(await inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), idle);
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await using var source = await CreateContentReadStreamAsync().ConfigureAwait(false);
            await source.CopyToAsync(stream).ConfigureAwait(false);
        }
        protected override bool TryComputeLength(out long length)
        {
            length = inner.Headers.ContentLength ?? 0;
            return inner.Headers.ContentLength is not null;
        }
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// One deadline per stream, re-armed by every read (a timer change, no allocation): a linked token source per read
    /// cost two allocations and a registration for every chunk of every stream.
    /// </summary>
    private sealed class IdleTimeoutStream(Stream inner, TimeSpan idle) : PluginProxy.Sdk.Streaming.ReadOnlyWrappingStream(inner)
    {
        private CancellationTokenSource _deadline = new();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // A source that fired (or was cancelled by the caller) cannot be re-armed: start a fresh one.
            if (!_deadline.TryReset())
            {
                _deadline.Dispose();
                _deadline = new CancellationTokenSource();
            }
            var deadline = _deadline;
            deadline.CancelAfter(idle);
            using var caller = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
            try
            {
                return await Inner.ReadAsync(buffer, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Timeout($"The upstream sent nothing for {idle.TotalSeconds:0} s (timeouts.stream-idle-seconds).", e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller's own cancellation, reported with its token.
                throw new OperationCanceledException(cancellationToken);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _deadline.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync()
        {
            _deadline.Dispose();
            return base.DisposeAsync();
        }
    }
}

/// <summary>What <see cref="AttemptHandler"/> applies to one attempt.</summary>
internal sealed record AttemptConcerns(
    IReadOnlyDictionary<string, string> Headers,
    Action<JsonObject>? EditBody,
    TimeSpan FirstByteTimeout,
    TimeSpan IdleTimeout)
{
    /// <summary>The client's request headers, for configured header values that start with <c>$</c>.</summary>
    public Microsoft.AspNetCore.Http.IHeaderDictionary? ClientHeaders { get; init; }

    /// <summary><c>passthrough-headers</c>: this attempt's copy of a successful answer's filtered headers onto the client's response.</summary>
    public PassthroughHeaders.AttemptCopy? PassthroughTo { get; init; }
}
