using System.Buffers;

namespace PluginProxy.Sdk.Streaming;

/// <summary>
/// A read-only stream over an upstream body that hands each complete line (SSE lines, NDJSON) to a rewrite function
/// and yields the result, so a passthrough executor can adjust a native stream (restore tool names, drop a field)
/// while the host still relays it as it arrives. A line is released as soon as its newline is read; a line longer than
/// <see cref="MaxLineBytes"/> is passed on unchanged in pieces (lines worth rewriting are short control events).
/// Read failures of the inner stream surface unchanged.
/// </summary>
public sealed class LineRewritingStream : ReadOnlyWrappingStream
{
    /// <summary>Returns the replacement for one line (without its line end), or null to keep it byte for byte.</summary>
    public delegate byte[]? LineRewriter(ReadOnlySpan<byte> line);

    private readonly LineRewriter _rewrite;
    private readonly ArrayBufferWriter<byte> _line = new();
    private readonly ArrayBufferWriter<byte> _output = new();
    private readonly byte[] _read = new byte[16 * 1024];
    private int _outputOffset;
    private bool _passing; // inside an over-long line: bytes flow through until its newline
    private bool _ended;

    public LineRewritingStream(Stream inner, LineRewriter rewrite, int maxLineBytes = 1024 * 1024) : base(inner)
    {
        _rewrite = rewrite;
        MaxLineBytes = maxLineBytes;
    }

    public int MaxLineBytes { get; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_outputOffset == _output.WrittenCount)
        {
            _output.ResetWrittenCount();
            _outputOffset = 0;
            if (_ended) return 0;
            var read = await Inner.ReadAsync(_read, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _ended = true;
                if (_line.WrittenCount > 0) EmitLine(_line.WrittenSpan, "");
                _line.ResetWrittenCount();
                continue;
            }
            Process(_read.AsSpan(0, read));
        }
        var available = _output.WrittenSpan[_outputOffset..];
        var n = Math.Min(available.Length, buffer.Length);
        available[..n].CopyTo(buffer.Span);
        _outputOffset += n;
        return n;
    }

    private void Process(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (_passing) _output.Write(data);
                else
                {
                    _line.Write(data);
                    if (_line.WrittenCount > MaxLineBytes)
                    {
                        _output.Write(_line.WrittenSpan);
                        _line.ResetWrittenCount();
                        _passing = true;
                    }
                }
                return;
            }
            var piece = data[..newline];
            data = data[(newline + 1)..];
            if (_passing)
            {
                _output.Write(piece);
                _output.Write("\n"u8);
                _passing = false;
                continue;
            }
            if (_line.WrittenCount > 0)
            {
                _line.Write(piece);
                EmitLine(_line.WrittenSpan, "\n");
                _line.ResetWrittenCount();
            }
            else EmitLine(piece, "\n");
        }
    }

    // The line end (\n or \r\n) is kept as it was; only the content is offered to the rewriter.
    private void EmitLine(ReadOnlySpan<byte> line, string end)
    {
        var cr = !line.IsEmpty && line[^1] == (byte)'\r';
        var content = cr ? line[..^1] : line;
        if (_rewrite(content) is { } replacement) _output.Write(replacement);
        else _output.Write(content);
        if (cr) _output.Write("\r"u8);
        if (end.Length > 0) _output.Write("\n"u8);
    }
}
