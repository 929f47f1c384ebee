using System.Text;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Tests.Sdk.Streaming;

public sealed class LineRewritingStreamTests
{
    /// <summary>Hands out its bytes a few at a time, so lines arrive split anywhere.</summary>
    private sealed class Trickle(byte[] data, int step) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(step, buffer.Length)], cancellationToken);
    }

    private static byte[]? Upper(ReadOnlySpan<byte> line) =>
        line.StartsWith("data:"u8) ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line).ToUpperInvariant()) : null;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task Rewrites_whole_lines_whatever_the_splits_and_keeps_line_ends(int step)
    {
        const string input = "event: a\r\ndata: x\r\n\r\nevent: b\ndata: y\n\ndata: tail";
        await using var stream = new LineRewritingStream(new Trickle(Encoding.UTF8.GetBytes(input), step), Upper);

        var output = await new StreamReader(stream).ReadToEndAsync();

        Assert.Equal("event: a\r\nDATA: X\r\n\r\nevent: b\nDATA: Y\n\nDATA: TAIL", output);
    }

    [Fact]
    public async Task A_line_over_the_bound_passes_unchanged()
    {
        var input = "data: " + new string('a', 100) + "\ndata: b\n";
        await using var stream = new LineRewritingStream(new Trickle(Encoding.UTF8.GetBytes(input), 7), Upper, maxLineBytes: 20);

        var output = await new StreamReader(stream).ReadToEndAsync();

        Assert.Equal("data: " + new string('a', 100) + "\nDATA: B\n", output);
    }
}
