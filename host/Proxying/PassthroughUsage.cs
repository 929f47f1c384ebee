using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Usage of a passthrough answer, observed while its bytes are relayed unchanged. For SSE only events whose data
/// mentions <c>usage</c> are decoded (with the dialect's own stream decoder, which keeps Anthropic's running totals);
/// a JSON answer (up to 1 MB) is scanned once at the end and only its usage object decoded (<see cref="IDialectCodec.DecodeUsage"/>). Costs one byte scan per relayed chunk; never throws.
/// </summary>
internal sealed class PassthroughUsage(IDialectCodec codec, bool sse)
{
    private const int MaxLine = 256 * 1024;
    private const int MaxJsonBody = 1024 * 1024;

    // Created for the first SSE event that carries usage: a JSON answer, and most stream chunks, never need them.
    private IStreamDecoder? _decoder;
    private List<StreamEvent>? _events;
    private byte[] _carry = [];
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

    /// <summary>
    /// The answer is complete: the usage object of a JSON body is found with a reader scan and only that slice is
    /// decoded, by the codec (the rest of the answer never becomes a DOM).
    /// </summary>
    public void Complete()
    {
        try
        {
            if (sse || _tooLarge || _carried == 0) return;
            if (FindUsage(_carry.AsSpan(0, _carried)) is not { } found) return;
            var (name, start, length) = found;
            // Only the dialect's own key: Gemini reads usageMetadata, the others usage (a foreign shape is not guessed at).
            if (name != (codec.Dialect == Dialect.Gemini ? "usageMetadata" : "usage")) return;
            Usage = codec.DecodeUsage(JsonNode.Parse(_carry.AsSpan(start, length))) ?? Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not an answer the codec reads: no usage, nothing else changes.
        }
        finally
        {
            // The carried bytes are pooled: returned once the answer is complete (Observe is not called after this).
            if (_carry.Length > 0) ArrayPool<byte>.Shared.Return(_carry);
            _carry = [];
            _carried = 0;
        }
    }

    /// <summary>
    /// Where a JSON answer's usage object is: <c>usage</c> (OpenAI Chat, Responses, Anthropic) or
    /// <c>usageMetadata</c> (Gemini) at the top level, else inside a top-level <c>response</c> object (a whole
    /// <c>response.completed</c> event, a Cloud Code wrapper). Null for an error body (a top-level <c>error</c>
    /// object or <c>"type":"error"</c>), a body without one, or bytes that are not JSON. Other values are skipped
    /// whole, so a <c>usage</c> key inside message content or tool arguments is never taken.
    /// </summary>
    internal static (string Name, int Start, int Length)? FindUsage(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        (string, int, int)? top = null, wrapped = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                var depth = reader.CurrentDepth;
                var name = reader.ValueTextEquals("usage"u8) ? "usage"
                    : reader.ValueTextEquals("usageMetadata"u8) ? "usageMetadata"
                    : null;
                var isResponse = depth == 1 && reader.ValueTextEquals("response"u8);
                var isError = depth == 1 && reader.ValueTextEquals("error"u8);
                var isType = depth == 1 && reader.ValueTextEquals("type"u8);
                if (!reader.Read()) return null;
                if (name is not null && reader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var found = (name, start, (int)reader.BytesConsumed - start);
                    if (depth == 1) top ??= found;
                    else wrapped ??= found; // a top-level usage wins
                    continue;
                }
                if (isError && reader.TokenType == JsonTokenType.StartObject) return null;
                if (isType && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8)) return null;
                if (isResponse && reader.TokenType == JsonTokenType.StartObject) continue; // its properties are read next
                reader.Skip(); // any other value, whole (only the top level and "response" are ever entered)
            }
        }
        catch (JsonException)
        {
            return null;
        }
        return top ?? wrapped; // the scan went to the end: an error key anywhere at the top level wins over usage
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data:"u8) || line.IndexOf("usage"u8) < 0 || !HasUsageObject(line[5..])) return;
        var data = line[5..].Trim(" \t"u8).ToArray(); // one or two events per stream carry usage
        try
        {
            _decoder ??= codec.CreateStreamDecoder();
            (_events ??= []).Clear();
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
        var reader = new Utf8JsonReader(data);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                var isUsage = reader.ValueTextEquals("usage"u8) || reader.ValueTextEquals("usageMetadata"u8);
                if (!reader.Read()) return false;
                if (isUsage && reader.TokenType == JsonTokenType.StartObject) return true;
            }
        }
        catch (JsonException)
        {
            return true; // not JSON the reader follows: let the decoder decide, as before
        }
        return false;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_carried + bytes.Length > _carry.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(_carry.Length * 2, 1024), _carried + bytes.Length));
            _carry.AsSpan(0, _carried).CopyTo(larger);
            if (_carry.Length > 0) ArrayPool<byte>.Shared.Return(_carry);
            _carry = larger;
        }
        bytes.CopyTo(_carry.AsSpan(_carried));
        _carried += bytes.Length;
    }
}
