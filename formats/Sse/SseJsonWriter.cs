using System.Buffers;
using System.Text.Json;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Sse;

/// <summary>
/// One reused <see cref="Utf8JsonWriter"/> per stream encoder for the frames written per delta: <c>event:</c> and
/// <c>data:</c> written straight as UTF-8, no JsonObject and no writer per event. Output is byte-identical to
/// <see cref="SseWriter.Write"/> of the equivalent JsonObject (same options, same property order).
/// </summary>
internal sealed class SseJsonWriter
{
    private Utf8JsonWriter? _json;

    /// <summary>Writes the event line (when named) and <c>data: </c>, and returns the writer reset onto <paramref name="output"/>.</summary>
    public Utf8JsonWriter Begin(IBufferWriter<byte> output, ReadOnlySpan<byte> eventName)
    {
        if (!eventName.IsEmpty)
        {
            output.Write("event: "u8);
            output.Write(eventName);
            output.Write("\n"u8);
        }
        output.Write("data: "u8);
        return Writer(output);
    }

    /// <summary>The writer reset onto <paramref name="output"/>, for JSON outside SSE framing (a JSON array stream).</summary>
    public Utf8JsonWriter Writer(IBufferWriter<byte> output)
    {
        if (_json is null) _json = new Utf8JsonWriter(output, JsonText.WriterOptions);
        else _json.Reset(output);
        return _json;
    }

    /// <summary>Flushes the JSON written since <see cref="Begin"/> and ends the frame.</summary>
    public void End(IBufferWriter<byte> output)
    {
        _json!.Flush();
        output.Write("\n\n"u8);
    }
}
