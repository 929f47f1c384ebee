using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// Sends one request with one credential. Failures are reported by throwing <see cref="Upstream.UpstreamException"/>
/// with a classification, so the host can cool down the right credential and try the next one.
/// </summary>
public interface IExecutor
{
    /// <summary>Non-streaming chat.</summary>
    Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Streaming chat. Connection and HTTP-status failures must surface on the first <c>MoveNextAsync</c> (before any
    /// event) so the host can retry on another credential; later failures end the stream with an exception.
    /// </summary>
    IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Passthrough: the body is already in the plugin's native dialect; the response is relayed to the client unchanged.
    /// Non-success statuses are thrown as <see cref="Upstream.UpstreamException"/>, not returned.
    /// </summary>
    Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken);

    /// <summary>Input token count for a request; throws <see cref="NotSupportedException"/> when the upstream cannot count.</summary>
    Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// True when the upstream only streams (Codex, Claude OAuth served from a stream): the host then serves
    /// non-streaming clients of other dialects from <see cref="StreamAsync"/>, aggregated, and never calls
    /// <see cref="CompleteAsync"/>. A stream that ends without its terminal event is then an error, not a short answer.
    /// </summary>
    bool StreamsOnly => false;
}
