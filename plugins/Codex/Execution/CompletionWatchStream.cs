using System.Text;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Plugins.Codex.Execution;

/// <summary>
/// Relays a Codex SSE body unchanged and fails its last read when the terminal event (<c>response.completed</c>,
/// <c>response.incomplete</c> or <c>response.failed</c>) never came, so a cut stream reaches the client as an error
/// event rather than a quiet end. Markers split across reads are found through a short carried tail.
/// </summary>
internal sealed class CompletionWatchStream(Stream inner) : Stream
{
    private static readonly byte[][] Markers =
    [
        .. new[] { "response.completed", "response.incomplete", "response.failed" }
            .SelectMany(t => new[] { $"\"type\":\"{t}\"", $"event: {t}", $"event:{t}" })
            .Select(Encoding.UTF8.GetBytes),
    ];

    private static readonly int Keep = Markers.Max(m => m.Length) - 1;
    private readonly byte[] _window = new byte[4096 + 64];
    private int _tail;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            if (!_ended) throw SseDecoding.EndedEarly();
            return 0;
        }
        if (!_ended) Scan(buffer.Span[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Scan(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty && !_ended)
        {
            var take = Math.Min(data.Length, _window.Length - _tail);
            data[..take].CopyTo(_window.AsSpan(_tail));
            data = data[take..];
            var span = _window.AsSpan(0, _tail + take);
            foreach (var marker in Markers)
                if (span.IndexOf(marker) >= 0) _ended = true;
            _tail = Math.Min(Keep, span.Length);
            span[^_tail..].CopyTo(_window);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
