using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Compact JSON output shared by every codec. Relaxed escaping keeps non-ASCII text and characters such as
/// <c>+</c> and <c>&lt;</c> as they are, so opaque strings (signatures) survive a decode/encode unchanged in value.
/// </summary>
public static class JsonText
{
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    public static readonly JsonSerializerOptions SerializerOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static void Write(IBufferWriter<byte> output, JsonNode? node)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        if (node is null) writer.WriteNullValue();
        else node.WriteTo(writer);
        writer.Flush();
    }

    public static string Serialize(JsonNode? node) => node?.ToJsonString(SerializerOptions) ?? "null";

    /// <summary>
    /// An element as compact JSON text, written as <see cref="Serialize(JsonNode?)"/> writes the same JSON (or with
    /// <paramref name="options"/>' escaping, where a dialect's old output used the default encoder).
    /// </summary>
    public static string Serialize(JsonElement element, JsonWriterOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, options ?? WriterOptions)) element.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static byte[] SerializeToUtf8(JsonNode? node)
    {
        // Every translated request and answer passes here: one writer and buffer per thread, reused, and a single exact
        // copy out, instead of a new writer and a buffer grown by doubling per call.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            if (node is null) writer.WriteNullValue();
            else node.WriteTo(writer);
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > MaxKeptBuffer)
            {
                // A large body (an image) does not pin its buffer to the thread.
                t_buffer = null;
                t_writer = null;
            }
        }
    }

    private const int MaxKeptBuffer = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Parses JSON text into a node; null for empty or invalid text.</summary>
    public static JsonNode? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A DOM's JSON as a standalone element (no document to dispose): how a DOM reaches an element-based decoder.</summary>
    public static JsonElement ToElement(JsonNode? node)
    {
        // The document is left to the GC rather than disposed: its element then needs no copy of the fresh bytes.
        return JsonDocument.Parse(SerializeToUtf8(node)).RootElement;
    }

    /// <summary>
    /// A node over a copy of <paramref name="element"/>: what a decoder keeps as JSON (a schema, an extension). The copy
    /// is independent of the element's document, and the node stays lazy (written back out without being materialized)
    /// until something reads into it. Null for JSON null.
    /// </summary>
    public static JsonNode? ToNode(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element.Clone()),
        JsonValueKind.Array => JsonArray.Create(element.Clone()),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => JsonValue.Create(element.Clone()),
    };
}
