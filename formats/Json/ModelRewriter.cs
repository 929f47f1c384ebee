using System.Text;
using System.Text.Json;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Replaces the top-level <c>"model"</c> string of a JSON body without re-serializing anything else, so a
/// passthrough request reaches the upstream byte-for-byte as the client sent it apart from the model name.
/// </summary>
public static class ModelRewriter
{
    /// <summary>The body with the model replaced; the same bytes when there is no top-level model string or it already matches.</summary>
    public static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> body, string model)
    {
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return body;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            var isModel = reader.ValueTextEquals("model"u8);
            reader.Read();
            if (isModel && reader.TokenType == JsonTokenType.String)
            {
                if (reader.ValueTextEquals(model)) return body;
                // TokenStartIndex points at the opening quote; the value span excludes both quotes.
                var start = (int)reader.TokenStartIndex;
                var end = start + reader.ValueSpan.Length + 2;
                var replacement = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(model, JsonText.SerializerOptions));
                var result = new byte[body.Length - (end - start) + replacement.Length];
                body.Span[..start].CopyTo(result);
                replacement.CopyTo(result.AsSpan(start));
                body.Span[end..].CopyTo(result.AsSpan(start + replacement.Length));
                return result;
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        }
        return body;
    }
}
