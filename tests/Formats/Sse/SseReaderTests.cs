using System.Text;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Tests.Formats.Sse;

public class SseReaderTests
{
    // CRLF, CR and LF line ends, a BOM, comments, id/retry fields, multi-line data, a field without a colon, a value
    // without the optional space, multi-byte UTF-8, and a last event with no blank line after it.
    private const string Text =
        "\uFEFFevent: first\r\ndata: héllo\r\ndata:wörld €\r\n\r\n" +
        ": a comment\nid: 7\nretry: 100\ndata: two\n\n" +
        "event: third\rdata\rdata: x\r\r" +
        "event: ignored without data\n\n" +
        "data: last";

    private static readonly SseEvent[] Expected =
    [
        new("first", "héllo\nwörld €"),
        new(null, "two"),
        new("third", "\nx"),
        new(null, "last"),
    ];

    [Fact]
    public async Task Reads_events_whatever_the_line_ends()
    {
        Assert.Equal(Expected, await ReadAsync(Encoding.UTF8.GetBytes(Text), [int.MaxValue]));
    }

    [Fact]
    public async Task Reads_the_same_events_when_the_bytes_arrive_split_at_any_position()
    {
        var bytes = Encoding.UTF8.GetBytes(Text);
        for (var p = 1; p < bytes.Length; p++)
            Assert.Equal(Expected, await ReadAsync(bytes, [p, int.MaxValue]));
        // And one byte at a time.
        Assert.Equal(Expected, await ReadAsync(bytes, [.. Enumerable.Repeat(1, bytes.Length)]));
    }

    [Fact]
    public async Task Lines_longer_than_the_read_buffer_are_kept_whole()
    {
        var data = new string('a', 100_000) + "é";
        var events = await ReadAsync(Encoding.UTF8.GetBytes($"data: {data}\n\ndata: next\n\n"), [4096]);
        Assert.Equal([new SseEvent(null, data), new SseEvent(null, "next")], events);
    }

    [Fact]
    public async Task A_line_over_the_limit_fails_with_a_transient_502()
    {
        // No line end at all: the reader must not keep buffering.
        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAsync(Encoding.UTF8.GetBytes("data: " + new string('x', 5000)), [512], maxBytes: 1024));
        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Equal(502, e.StatusCode);
        Assert.Equal("upstream stream event exceeds 1 KiB", e.Message);
    }

    [Fact]
    public async Task An_event_whose_data_lines_add_up_over_the_limit_fails()
    {
        var lines = string.Concat(Enumerable.Repeat("data: " + new string('y', 100) + "\n", 20)) + "\n";
        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAsync(Encoding.UTF8.GetBytes(lines), [int.MaxValue], maxBytes: 1024));
        Assert.Equal(502, e.StatusCode);
        Assert.Contains("exceeds 1 KiB", e.Message);
    }

    [Fact]
    public async Task Events_up_to_the_limit_pass()
    {
        var data = new string('z', 1024 - "data: ".Length);
        var events = await ReadAsync(Encoding.UTF8.GetBytes($"data: {data}\n\ndata: {data}\n\n"), [100], maxBytes: 1024);
        Assert.Equal(2, events.Count);
        Assert.Equal(data, events[1].Data);
    }

    [Fact]
    public async Task A_repeated_event_name_is_decoded_once()
    {
        var events = await ReadAsync("event: delta\ndata: 1\n\nevent: delta\ndata: 2\n\nevent: other\ndata: 3\n\n"u8.ToArray(), [int.MaxValue]);
        Assert.Equal(["1", "2", "3"], events.Select(e => e.Data));
        Assert.Same(events[0].Event, events[1].Event);
        Assert.Equal("other", events[2].Event);
    }

    [Fact]
    public void Events_built_from_text_and_from_bytes_are_equal_and_read_alike()
    {
        var fromText = new SseEvent("e", " [DONE]\t");
        var fromBytes = new SseEvent("e", Encoding.UTF8.GetBytes(" [DONE]\t"));
        Assert.Equal(fromText, fromBytes);
        Assert.Equal(" [DONE]\t", fromBytes.Data);
        Assert.False(fromBytes.IsDone); // only the exact terminator
        Assert.True(new SseEvent(null, "[DONE]").IsDone);
        Assert.True(new SseEvent(null, " \r\n").IsBlank);
        Assert.False(fromBytes.IsBlank);
        Assert.NotEqual(fromText, new SseEvent(null, " [DONE]\t"));
    }

    private static async Task<List<SseEvent>> ReadAsync(byte[] bytes, int[] reads, int maxBytes = SseReader.DefaultMaxEventBytes)
    {
        var events = new List<SseEvent>();
        await foreach (var e in SseReader.ReadAsync(new ChunkedStream(bytes, reads), maxBytes)) events.Add(e.Copy());
        return events;
    }

    /// <summary>Returns at most the given number of bytes per read, in turn (the last size repeats).</summary>
    private sealed class ChunkedStream(byte[] data, int[] reads) : Stream
    {
        private int _position;
        private int _read;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var size = reads[Math.Min(_read++, reads.Length - 1)];
            var n = Math.Min(Math.Min(count, size), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var size = reads[Math.Min(_read++, reads.Length - 1)];
            var n = Math.Min(Math.Min(buffer.Length, size), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
