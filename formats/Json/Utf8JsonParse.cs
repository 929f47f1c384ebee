using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Lenient parsing of upstream UTF-8 (an SSE event's data) into a pooled <see cref="JsonDocument"/>, with the outcome
/// of <see cref="JsonText.TryParse(string?)"/> over the same bytes decoded to a string: stream decoders read elements
/// without a string or a DOM per event and still behave as they did when they parsed <c>SseEvent.Data</c>.
/// </summary>
public static class Utf8JsonParse
{
    /// <summary>
    /// The document over <paramref name="utf8"/> (not copied: dispose it before the bytes change), or null for empty,
    /// blank or invalid JSON. Invalid UTF-8 reads as U+FFFD, as a string decode would (a document would refuse to
    /// read such a string); that rare input is re-encoded first.
    /// </summary>
    public static JsonDocument? TryParse(ReadOnlyMemory<byte> utf8)
    {
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
}
