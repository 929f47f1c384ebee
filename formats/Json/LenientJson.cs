using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Upstream JSON read in place, forgivingly: stream decoders parse an SSE event's UTF-8 data into a pooled document
/// (no string, no DOM) and look fields up where anything missing or of the wrong shape reads as absent, as the DOM
/// decoders did with <c>as JsonObject</c> and typed reads. Strings come out only for what a decoder keeps.
/// </summary>
public static class LenientJson
{
    /// <summary>
    /// A pooled document over <paramref name="utf8"/> (not copied: dispose it before the bytes change); null for
    /// blank or invalid JSON, as <see cref="JsonText.TryParse(string?)"/> of the same text. Bytes that are not valid
    /// UTF-8 go the slow way through a string, so they read with U+FFFD replacements as the text path did instead of
    /// failing when a string is read out.
    /// </summary>
    public static JsonDocument? TryParse(ReadOnlyMemory<byte> utf8)
    {
        if (utf8.Span.Trim(" \t\r\n"u8).IsEmpty) return null;
        if (!Utf8.IsValid(utf8.Span)) utf8 = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8.Span));
        try
        {
            return JsonDocument.Parse(utf8);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="obj"/>'s value for <paramref name="key"/>; <c>default</c> (Undefined) when it is missing or
    /// <paramref name="obj"/> is not an object (where a DOM indexer would have thrown).
    /// </summary>
    public static JsonElement Get(JsonElement obj, ReadOnlySpan<byte> key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var value) ? value : default;

    /// <summary>Missing (Undefined) or JSON null: what a DOM lookup returns as null.</summary>
    public static bool IsAbsent(JsonElement value) => value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;

    /// <summary>Whether <paramref name="value"/> is the string <paramref name="utf8"/> (compared unescaped, nothing materialized).</summary>
    public static bool IsString(JsonElement value, ReadOnlySpan<byte> utf8) =>
        value.ValueKind == JsonValueKind.String && value.ValueEquals(utf8);

    /// <summary>The string, or null for any other kind.</summary>
    public static string? String(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
