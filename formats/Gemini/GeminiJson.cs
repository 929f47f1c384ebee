using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

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

    public static bool Has(JsonObject obj, string camelName) => Get(obj, camelName) is not null;

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

    // ---- strict readers (parts of upstream answers; client requests use GeminiElement): wrong types become RequestFormatException naming the field ----

    public static JsonObject? OptionalObject(JsonObject obj, string camelName, string path) => Get(obj, camelName) switch
    {
        null => null,
        JsonObject o => o,
        _ => throw new RequestFormatException($"{FieldPath(path, camelName)} must be an object"),
    };

    public static JsonArray? OptionalArray(JsonObject obj, string camelName, string path) => Get(obj, camelName) switch
    {
        null => null,
        JsonArray a => a,
        _ => throw new RequestFormatException($"{FieldPath(path, camelName)} must be an array"),
    };

    public static string? OptionalString(JsonObject obj, string camelName, string path)
    {
        var node = Get(obj, camelName);
        if (node is null) return null;
        return AsString(node) ?? throw new RequestFormatException($"{FieldPath(path, camelName)} must be a string");
    }

    public static bool? OptionalBool(JsonObject obj, string camelName, string path) => Get(obj, camelName) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        _ => throw new RequestFormatException($"{FieldPath(path, camelName)} must be a boolean"),
    };

    /// <summary>A field's path for error messages; top-level fields have an empty parent path.</summary>
    private static string FieldPath(string path, string field) => path.Length == 0 ? field : path + "." + field;

    public static JsonObject RequireObject(JsonNode? node, string path) =>
        node as JsonObject ?? throw new RequestFormatException($"{path} must be an object");
}
