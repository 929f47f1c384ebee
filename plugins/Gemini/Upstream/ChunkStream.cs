namespace PluginProxy.Plugins.Gemini.Upstream;

/// <summary>
/// A read-only stream over byte chunks produced on demand (an upstream stream rewritten as it arrives), so a relayed
/// answer is transformed without buffering it and without a background task. An exception of the producer surfaces
/// from <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.
/// </summary>
internal sealed class ChunkStream(Func<CancellationToken, IAsyncEnumerable<ReadOnlyMemory<byte>>> produce) : Stream
{
    private IAsyncEnumerator<ReadOnlyMemory<byte>>? _chunks;
    private ReadOnlyMemory<byte> _pending;
    private bool _done;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty)
        {
            if (_done) return 0;
            _chunks ??= produce(cancellationToken).GetAsyncEnumerator(cancellationToken);
            if (!await _chunks.MoveNextAsync().ConfigureAwait(false))
            {
                _done = true;
                return 0;
            }
            _pending = _chunks.Current;
        }
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override async ValueTask DisposeAsync()
    {
        if (_chunks is not null) await _chunks.DisposeAsync().ConfigureAwait(false);
        _chunks = null;
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _chunks is not null) _chunks.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _chunks = null;
        base.Dispose(disposing);
    }

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
