using System.Text.Json.Nodes;
using System.Text.Json;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Typed reads of client request fields. A present value of the wrong type is a client error, reported as
/// <see cref="RequestFormatException"/> naming the field; absent and JSON <c>null</c> read as null (as a DOM's
/// <c>obj["key"]</c> does). Numbers accept what <see cref="JsonElement.TryGetDouble"/> / <see cref="JsonElement.TryGetInt32"/> accept.
/// </summary>
internal static class RequestFields
{
    /// <summary>The value of <paramref name="key"/>, or false when it is absent or JSON null.</summary>
    public static bool TryGet(JsonElement obj, string key, out JsonElement value) =>
        obj.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    public static string? String(JsonElement obj, string key, FieldPath at)
    {
        if (!TryGet(obj, key, out var value)) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Error(at, key, "must be a string");
    }

    public static string RequiredString(JsonElement obj, string key, FieldPath at) =>
        String(obj, key, at) ?? throw Error(at, key, "is required");

    public static bool? Bool(JsonElement obj, string key, FieldPath at)
    {
        if (!TryGet(obj, key, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(at, key, "must be a boolean"),
        };
    }

    public static double? Number(JsonElement obj, string key, FieldPath at)
    {
        if (!TryGet(obj, key, out var value)) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) ? d : throw Error(at, key, "must be a number");
    }

    public static int? Integer(JsonElement obj, string key, FieldPath at)
    {
        if (!TryGet(obj, key, out var value)) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : throw Error(at, key, "must be an integer");
    }

    /// <summary>The object under <paramref name="key"/>, or false when absent or null.</summary>
    public static bool Object(JsonElement obj, string key, FieldPath at, out JsonElement value)
    {
        if (!TryGet(obj, key, out value)) return false;
        return value.ValueKind == JsonValueKind.Object ? true : throw Error(at, key, "must be an object");
    }

    /// <summary>The array under <paramref name="key"/>, or false when absent or null.</summary>
    public static bool Array(JsonElement obj, string key, FieldPath at, out JsonElement value)
    {
        if (!TryGet(obj, key, out value)) return false;
        return value.ValueKind == JsonValueKind.Array ? true : throw Error(at, key, "must be an array");
    }

    private static RequestFormatException Error(FieldPath at, string key, string problem) => new($"{at.Format(key)} {problem}");
}

/// <summary>Forgiving reads of upstream JSON: anything missing or of another type reads as null.</summary>
internal static class Lenient
{
    public static string? String(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>Field <paramref name="key"/> of <paramref name="obj"/> when both are there and it is a string.</summary>
    public static string? String(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static long? Long(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l) ? l : null;

    /// <summary>As <see cref="Long(JsonNode?)"/> on an element: a number that is an Int64.</summary>
    public static long? Long(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l) ? l : null;

    /// <summary>The object entries of an array (others skipped); nothing when it is not an array.</summary>
    public static IEnumerable<JsonElement> Objects(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array) yield break;
        foreach (var entry in value.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Object) yield return entry;
        }
    }
}
