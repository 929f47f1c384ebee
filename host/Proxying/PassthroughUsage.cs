using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Usage of a passthrough answer, observed while its bytes are relayed unchanged. For SSE only events whose data
/// mentions <c>usage</c> are decoded (with the dialect's own stream decoder, which keeps Anthropic's running totals);
/// a JSON answer is decoded once at the end when it is small. Costs one byte scan per relayed chunk; never throws.
/// </summary>
internal sealed class PassthroughUsage(IDialectCodec codec, bool sse)
{
    private const int MaxLine = 256 * 1024;
    private const int MaxJsonBody = 1024 * 1024;

    private readonly IStreamDecoder _decoder = codec.CreateStreamDecoder();
    private readonly List<StreamEvent> _events = [];
    private byte[] _carry = new byte[1024];
    private int _carried;
    private bool _skipLine;
    private bool _tooLarge;

    public Usage? Usage { get; private set; }

    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (!sse)
        {
            if (_tooLarge) return;
            if (_carried + chunk.Length > MaxJsonBody) _tooLarge = true;
            else Append(chunk);
            return;
        }
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            if (newline >= 0 && _carried == 0 && !_skipLine)
            {
                Line(chunk[..newline]); // the common case: a whole line inside one chunk, no copy
                chunk = chunk[(newline + 1)..];
                continue;
            }
            var part = newline < 0 ? chunk : chunk[..newline];
            if (!_skipLine)
            {
                if (_carried + part.Length > MaxLine)
                {
                    _skipLine = true; // an over-long line is skipped, not kept
                    _carried = 0;
                }
                else Append(part);
            }
            if (newline < 0) return;
            if (!_skipLine) Line(_carry.AsSpan(0, _carried));
            _carried = 0;
            _skipLine = false;
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>The answer is complete: a JSON body is decoded now.</summary>
    public void Complete()
    {
        if (sse || _tooLarge || _carried == 0) return;
        try
        {
            if (JsonNode.Parse(_carry.AsSpan(0, _carried)) is JsonObject body) Usage = codec.DecodeResponse(body).Usage ?? Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not an answer the codec reads: no usage, nothing else changes.
        }
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data:"u8) || line.IndexOf("usage"u8) < 0 || !HasUsageObject(line[5..])) return;
        var data = Encoding.UTF8.GetString(line[5..]).Trim();
        try
        {
            _events.Clear();
            _decoder.Decode(new SseEvent(null, data), _events);
            foreach (var e in _events)
                if (e is UsageReported reported) Usage = reported.Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An upstream error event or a shape the decoder refuses: usage stays what it was.
        }
    }

    /// <summary>
    /// True when the event carries a usage object (<c>usage</c> or <c>usageMetadata</c>, at any depth). OpenAI sends
    /// <c>"usage":null</c> in every chunk when usage is asked for; those are not decoded. A byte scan, no allocation.
    /// </summary>
    internal static bool HasUsageObject(ReadOnlySpan<byte> data)
    {
        var reader = new System.Text.Json.Utf8JsonReader(data);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != System.Text.Json.JsonTokenType.PropertyName) continue;
                var isUsage = reader.ValueTextEquals("usage"u8) || reader.ValueTextEquals("usageMetadata"u8);
                if (!reader.Read()) return false;
                if (isUsage && reader.TokenType == System.Text.Json.JsonTokenType.StartObject) return true;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            return true; // not JSON the reader follows: let the decoder decide, as before
        }
        return false;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_carried + bytes.Length > _carry.Length) Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carried + bytes.Length));
        bytes.CopyTo(_carry.AsSpan(_carried));
        _carried += bytes.Length;
    }
}
