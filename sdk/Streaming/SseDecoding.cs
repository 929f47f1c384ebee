using System.Runtime.CompilerServices;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Sdk.Streaming;

/// <summary>Upstream SSE bytes to canonical events with a dialect's decoder, for executors that read streams themselves.</summary>
public static class SseDecoding
{
    /// <summary>
    /// Decodes <paramref name="body"/> event by event. When the body ends before the upstream's own end of stream
    /// (<see cref="IStreamDecoder.EndedCleanly"/> is false) it throws a transient <see cref="UpstreamException"/> (502)
    /// instead of closing the stream as if it were whole.
    /// </summary>
    public static async IAsyncEnumerable<StreamEvent> DecodeAsync(Stream body, IStreamDecoder decoder, int maxEventBytes = SseReader.DefaultMaxEventBytes,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var output = new List<StreamEvent>();
        await foreach (var sse in SseReader.ReadAsync(body, maxEventBytes, cancellationToken).ConfigureAwait(false))
        {
            decoder.Decode(sse, output);
            foreach (var e in output) yield return e;
            output.Clear();
        }
        if (!decoder.EndedCleanly) throw EndedEarly();
        decoder.Complete(output);
        foreach (var e in output) yield return e;
    }

    /// <summary>The failure for a stream that stopped before its terminal event.</summary>
    public static UpstreamException EndedEarly() =>
        new(FailureKind.Transient, 502, "The upstream stream ended early, before its final event; the answer is incomplete.");
}
