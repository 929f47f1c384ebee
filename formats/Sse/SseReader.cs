using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Formats.Sse;

/// <summary>
/// Reads server-sent events from a stream as they arrive (comments and <c>id:</c>/<c>retry:</c> fields are skipped).
/// Works on UTF-8 bytes in pooled buffers: an event's data is a view of the reader's buffer, valid until the next
/// event is read (see <see cref="SseEvent"/>), so no string is made per event; a repeated <c>event:</c> name reuses
/// the previous string. A line or an event's data longer than
/// the limit fails with a transient <see cref="UpstreamException"/> (502) instead of growing without bound.
/// </summary>
public static class SseReader
{
    /// <summary>The default bound on one line and on one event's data.</summary>
    public const int DefaultMaxEventBytes = 16 * 1024 * 1024;

    private const int ReadSize = 16 * 1024;

    public static IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ReadAsync(stream, DefaultMaxEventBytes, cancellationToken);

    /// <param name="maxEventBytes">The most bytes one line, or the data of one event, may take.</param>
    public static async IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, int maxEventBytes, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEventBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        var parser = new Parser(maxEventBytes);
        try
        {
            int start = 0, end = 0, scanned = 0;
            var first = true;
            // After a CR line end, an LF at the start of the next read belongs to it.
            var skipLf = false;
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        (end, scanned, start) = (end - start, scanned - start, 0);
                    }
                    else
                    {
                        // One line fills the buffer: grow it, up to the limit (the check below fails past it).
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)maxEventBytes + ReadSize));
                        buffer.AsSpan(0, end).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }
                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (end > start && parser.Line(buffer.AsSpan(start, end - start), out var last)) yield return last;
                    if (parser.End(out var pending)) yield return pending;
                    yield break;
                }
                end += read;
                if (first)
                {
                    // A leading byte order mark is not part of the first line.
                    var head = buffer.AsSpan(start, end - start);
                    if (head.Length < 3 && "\uFEFF"u8.StartsWith(head)) continue;
                    first = false;
                    if (head.StartsWith("\uFEFF"u8)) start = scanned = start + 3;
                }
                if (skipLf && start < end)
                {
                    skipLf = false;
                    if (buffer[start] == (byte)'\n') start = scanned = start + 1;
                }
                while (true)
                {
                    var eol = buffer.AsSpan(scanned, end - scanned).IndexOfAny((byte)'\r', (byte)'\n');
                    if (eol < 0)
                    {
                        scanned = end;
                        if (end - start > maxEventBytes) throw TooLarge(maxEventBytes);
                        break;
                    }
                    eol += scanned;
                    var line = buffer.AsSpan(start, eol - start);
                    var next = eol + 1;
                    if (buffer[eol] == (byte)'\r')
                    {
                        if (next < end)
                        {
                            if (buffer[next] == (byte)'\n') next++;
                        }
                        else skipLf = true;
                    }
                    start = scanned = next;
                    if (line.Length > maxEventBytes) throw TooLarge(maxEventBytes);
                    if (parser.Line(line, out var sse)) yield return sse;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            parser.Dispose();
        }
    }

    internal static UpstreamException TooLarge(int maxBytes) =>
        new(FailureKind.Transient, 502, $"upstream stream event exceeds {Describe(maxBytes)}");

    /// <summary>A byte count as people read it (<c>16 MiB</c>, <c>64 KiB</c>, <c>100 bytes</c>).</summary>
    internal static string Describe(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB"
        : bytes % 1024 == 0 ? $"{bytes / 1024} KiB"
        : $"{bytes} bytes";

    /// <summary>Field handling for one line at a time; keeps the current event's data as UTF-8 in a pooled buffer.</summary>
    private sealed class Parser(int maxEventBytes) : IDisposable
    {
        private byte[] _data = ArrayPool<byte>.Shared.Rent(1024);
        private int _length;
        private bool _hasData;
        private string? _eventName;
        // Streams repeat a handful of names (content_block_delta, response.output_text.delta): decode each once.
        private string? _lastName;

        /// <summary>Takes one line (without its end); true when it completed an event.</summary>
        public bool Line(ReadOnlySpan<byte> line, out SseEvent sse)
        {
            sse = default;
            if (line.IsEmpty)
            {
                var dispatched = End(out sse);
                _eventName = null;
                return dispatched;
            }
            if (line[0] == (byte)':') return false;
            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            ReadOnlySpan<byte> value = colon < 0 ? [] : line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ') value = value[1..];
            if (field.SequenceEqual("event"u8))
            {
                _eventName = _lastName is not null && Ascii.Equals(value, _lastName) ? _lastName : _lastName = Encoding.UTF8.GetString(value);
            }
            else if (field.SequenceEqual("data"u8))
            {
                var needed = _length + (_hasData ? 1 : 0) + value.Length;
                if (needed > maxEventBytes) throw TooLarge(maxEventBytes);
                if (needed > _data.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _data.Length * 2));
                    _data.AsSpan(0, _length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_data);
                    _data = larger;
                }
                if (_hasData) _data[_length++] = (byte)'\n';
                value.CopyTo(_data.AsSpan(_length));
                _length += value.Length;
                _hasData = true;
            }
            return false;
        }

        /// <summary>Completes the pending event, if it has data.</summary>
        public bool End(out SseEvent sse)
        {
            sse = default;
            if (!_hasData) return false;
            // A view of the buffer: the next line is parsed only after the consumer has moved on from this event.
            sse = new SseEvent(_eventName, new ReadOnlyMemory<byte>(_data, 0, _length));
            _length = 0;
            _hasData = false;
            return true;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_data);
    }
}
