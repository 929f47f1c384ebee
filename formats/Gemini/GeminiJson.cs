using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Field access for Gemini bodies. Google's JSON parser accepts both the proto (snake_case) and the JSON
/// (camelCase) spelling of every field, so clients send either; lookups try camelCase first.
/// </summary>
internal static class GeminiJson
{
    /// <summary>The field spelled <paramref name="camelName"/> or its snake_case twin; JSON null counts as absent.</summary>
    public static JsonNode? Get(JsonObject obj, string camelName) =>
        obj[camelName] ?? (HasUpper(camelName) ? obj[ToSnake(camelName)] : null);


    public static string ToSnake(string camel)
    {
        var sb = new StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsUpper(c))
            {
                sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    public static string ToCamel(string key)
    {
        if (!key.Contains('_')) return key;
        var sb = new StringBuilder(key.Length);
        var upper = false;
        foreach (var c in key)
        {
            if (c == '_')
            {
                upper = sb.Length > 0;
                continue;
            }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return sb.ToString();
    }

    private static bool HasUpper(string s)
    {
        foreach (var c in s)
            if (char.IsUpper(c)) return true;
        return false;
    }

    // ---- lenient readers (upstream answers) ----

    public static string? AsString(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? AsLong(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        return v.GetValueKind() switch
        {
            JsonValueKind.Number when v.TryGetValue<long>(out var l) => l,
            JsonValueKind.Number when v.TryGetValue<double>(out var d) => (long)d,
            // int64 fields are strings in proto JSON; Google sometimes sends counts that way.
            JsonValueKind.String when long.TryParse(v.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            _ => null,
        };
    }

    public static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    // ---- lenient readers over elements (upstream stream chunks), as the DOM readers above ----

    /// <summary>A string field (either spelling, see <see cref="GeminiElement.TryGet"/>); null when absent or not a string.</summary>
    public static string? String(JsonElement obj, string camelName) =>
        GeminiElement.TryGet(obj, camelName, out var value) ? LenientJson.String(value) : null;

    /// <summary>An integer field read as <see cref="AsLong(JsonNode?)"/> reads it; null when absent or unreadable.</summary>
    public static long? Long(JsonElement obj, string camelName) =>
        GeminiElement.TryGet(obj, camelName, out var value) ? AsLong(value) : null;

    /// <summary>The field when it is an object (either spelling); anything else reads as absent.</summary>
    public static bool TryObject(JsonElement obj, string camelName, out JsonElement value) =>
        GeminiElement.TryGet(obj, camelName, out value) && value.ValueKind == JsonValueKind.Object;

    public static long? AsLong(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var l) => l,
        JsonValueKind.Number when value.TryGetDouble(out var d) => (long)d,
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
        _ => null,
    };
}
