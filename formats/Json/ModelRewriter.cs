using System.Buffers;
using System.Text.Json;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Replaces the top-level <c>"model"</c> string of a JSON body without re-serializing anything else, so a
/// passthrough request reaches the upstream byte-for-byte as the client sent it apart from the model name.
/// </summary>
public static class ModelRewriter
{
    /// <summary>The body with the model replaced; the same bytes when there is no top-level model string or it already matches.</summary>
    public static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> body, string model) => Rewrite(body, model, out _, pool: null);

    /// <summary>
    /// Like <see cref="Rewrite(ReadOnlyMemory{byte}, string)"/>, with the new body in an array from <paramref name="pool"/>
    /// (a new array when it is null). <paramref name="rented"/> is that array when one was needed: the caller returns it
    /// to the pool once the body was sent; null when the body is returned unchanged.
    /// </summary>
    public static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> body, string model, out byte[]? rented, ArrayPool<byte>? pool)
    {
        rented = null;
        if (!TryFindModel(body.Span, model, out var start, out var end)) return body;
        var replacement = JsonEncodedText.Encode(model, JsonText.WriterOptions.Encoder).EncodedUtf8Bytes;
        var length = body.Length - (end - start) + replacement.Length + 2;
        var result = pool is null ? new byte[length] : pool.Rent(length);
        var span = body.Span;
        span[..start].CopyTo(result);
        result[start] = (byte)'"';
        replacement.CopyTo(result.AsSpan(start + 1));
        result[start + 1 + replacement.Length] = (byte)'"';
        span[end..].CopyTo(result.AsSpan(start + replacement.Length + 2));
        if (pool is not null) rented = result;
        return result.AsMemory(0, length);
    }

    /// <summary>Where the top-level model string is (quotes included); false when there is none or it already equals <paramref name="model"/>.</summary>
    private static bool TryFindModel(ReadOnlySpan<byte> body, string model, out int start, out int end)
    {
        start = end = 0;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject) return false;
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            var isModel = reader.ValueTextEquals("model"u8);
            reader.Read();
            if (isModel && reader.TokenType == JsonTokenType.String)
            {
                if (reader.ValueTextEquals(model)) return false;
                // TokenStartIndex points at the opening quote; the value span (still escaped) excludes both quotes.
                start = (int)reader.TokenStartIndex;
                end = start + reader.ValueSpan.Length + 2;
                return true;
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        }
        return false;
    }
}
