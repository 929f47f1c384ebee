using System.Net;
using System.Text;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// A relayed stream's body: yields each <c>stream_chunk</c> as it arrives (never the whole answer), ends at
/// <c>stream_end</c>, and throws a transient <see cref="UpstreamException"/> when the relay reports an error or the session
/// dies mid-answer, so the client gets its dialect's mid-stream error. Disposing it abandons the request.
/// </summary>
internal sealed class RelayBodyContent(PendingReply pending, RelayMessage? first) : HttpContent
{
    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new RelayBodyStream(pending, first));

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => CreateContentReadStreamAsync();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var source = new RelayBodyStream(pending, first);
        await source.CopyToAsync(stream).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) pending.Dispose();
        base.Dispose(disposing);
    }

    // No inner stream: the chunks come from the pending reply; the base class answers the rest of Stream.
    private sealed class RelayBodyStream(PendingReply pending, RelayMessage? first) : ReadOnlyWrappingStream(Stream.Null)
    {
        private RelayMessage? _next = first;
        private byte[] _segment = [];
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _segment.Length)
            {
                if (_done) return 0;
                RelayMessage? message;
                if (_next is not null)
                {
                    message = _next;
                    _next = null;
                }
                else
                {
                    try
                    {
                        message = await pending.NextAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (RelaySessionEndedException e)
                    {
                        throw new UpstreamException(FailureKind.Transient, 502, $"The AI Studio relay disconnected mid-answer: {e.Reason}.", inner: e);
                    }
                    catch (RelayOverflowException e)
                    {
                        throw new UpstreamException(FailureKind.Transient, 502, $"The AI Studio relay: {e.Message}", inner: e);
                    }
                }
                switch (message?.Type)
                {
                    case null:
                        throw new UpstreamException(FailureKind.Transient, 502, $"The AI Studio relay ended the answer without stream_end.");
                    case RelayMessage.StreamChunk:
                        _segment = Encoding.UTF8.GetBytes(message.Field("data") ?? "");
                        _offset = 0;
                        break;
                    case RelayMessage.HttpResponse:
                        _segment = Encoding.UTF8.GetBytes(message.Field("body") ?? "");
                        _offset = 0;
                        _done = true;
                        break;
                    case RelayMessage.StreamEnd:
                        _done = true;
                        break;
                    case RelayMessage.Error:
                        var status = message.Status(502) is var s and >= 400 ? s : 502;
                        throw new UpstreamException(FailureClassifier.KindFor(status), status,
                            $"The AI Studio relay reported an error mid-answer: {message.Field("error") ?? "unknown"}");
                    default:
                        break; // stream_start repeated, unknown types: nothing to read
                }
            }
            var count = Math.Min(buffer.Length, _segment.Length - _offset);
            _segment.AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            return count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) pending.Dispose();
            base.Dispose(disposing);
        }
    }
}
