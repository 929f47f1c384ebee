using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Sse;

/// <summary>Writes SSE frames into a buffer. JSON is written compactly with relaxed escaping.</summary>
public static class SseWriter
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();

    /// <summary>Writes <c>event: name\ndata: json\n\n</c> (the event line omitted when <paramref name="eventName"/> is null).</summary>
    public static void Write(IBufferWriter<byte> output, string? eventName, JsonNode data)
    {
        if (eventName is not null)
        {
            output.Write(EventPrefix);
            WriteUtf8(output, eventName);
            output.Write("\n"u8);
        }
        output.Write(DataPrefix);
        JsonText.Write(output, data);
        output.Write("\n\n"u8);
    }

    /// <summary>Writes <c>data: text\n\n</c> verbatim (for example <c>[DONE]</c>).</summary>
    public static void WriteData(IBufferWriter<byte> output, string text)
    {
        output.Write(DataPrefix);
        WriteUtf8(output, text);
        output.Write("\n\n"u8);
    }

    /// <summary>Writes an SSE comment line (<c>: text\n\n</c>), used for keep-alives.</summary>
    public static void WriteComment(IBufferWriter<byte> output, string text)
    {
        output.Write(": "u8);
        WriteUtf8(output, text);
        output.Write("\n\n"u8);
    }

    public static void WriteUtf8(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        output.Advance(written);
    }
}
