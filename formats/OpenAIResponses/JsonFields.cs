using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Where a request field sits (<c>input[3].content[1]</c>), held as its pieces and formatted only when an error names
/// it, so a well-formed body builds no path strings.
/// </summary>
internal readonly struct FieldPath(string root, int index = -1, string? member = null, int memberIndex = -1)
{
    /// <summary>The body itself: a field path is the key alone.</summary>
    public static FieldPath Body => new("");

    /// <summary>This path's <paramref name="name"/> member; one level below an indexed root (<c>input[3].content</c>).</summary>
    public FieldPath Member(string name) => new(root, index, name);

    /// <summary>Element <paramref name="i"/> of this path's member (<c>input[3].content[1]</c>).</summary>
    public FieldPath At(int i) => new(root, index, member, i);

    /// <summary>The path of field <paramref name="key"/> of the object at this path.</summary>
    public string Of(string key)
    {
        var self = ToString();
        return self.Length == 0 ? key : self + "." + key;
    }

    public override string ToString()
    {
        var path = index >= 0 ? $"{root}[{index}]" : root;
        if (member is not null) path += "." + member;
        if (memberIndex >= 0) path += $"[{memberIndex}]";
        return path;
    }
}

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

    private static RequestFormatException Error(FieldPath at, string key, string problem) => new($"{at.Of(key)} {problem}");
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

    public static JsonObject? Object(JsonNode? node) => node as JsonObject;

    public static IEnumerable<JsonObject> Objects(JsonNode? node) =>
        node is JsonArray array ? array.OfType<JsonObject>() : [];
}
