using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Typed reads of JSON values. The <c>Optional*</c>/<c>Required*</c> methods are for client input: JSON null counts
/// as absent, a wrong type throws <see cref="RequestFormatException"/> naming the field. The <c>As*</c> methods are
/// for upstream bodies, which are read leniently (a wrong type reads as absent).
/// </summary>
internal static class JsonRead
{
    public static string? OptionalString(JsonNode? node, string field) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw new RequestFormatException($"'{field}' must be a string"),
    };

    public static string RequiredString(JsonNode? node, string field) =>
        OptionalString(node, field) ?? throw new RequestFormatException($"'{field}' is required");

    public static double? OptionalNumber(JsonNode? node, string field) => node switch
    {
        null => null,
        _ => AsDouble(node) ?? throw new RequestFormatException($"'{field}' must be a number"),
    };

    public static long? OptionalInteger(JsonNode? node, string field) => node switch
    {
        null => null,
        _ => AsLong(node) ?? throw new RequestFormatException($"'{field}' must be an integer"),
    };

    public static int? OptionalInt32(JsonNode? node, string field)
    {
        var value = OptionalInteger(node, field);
        if (value is < int.MinValue or > int.MaxValue) throw new RequestFormatException($"'{field}' is out of range");
        return (int?)value;
    }

    public static bool? OptionalBool(JsonNode? node, string field) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
        _ => throw new RequestFormatException($"'{field}' must be a boolean"),
    };

    public static JsonObject? OptionalObject(JsonNode? node, string field) => node switch
    {
        null => null,
        JsonObject obj => obj,
        _ => throw new RequestFormatException($"'{field}' must be an object"),
    };

    public static JsonArray? OptionalArray(JsonNode? node, string field) => node switch
    {
        null => null,
        JsonArray array => array,
        _ => throw new RequestFormatException($"'{field}' must be an array"),
    };

    public static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static double? AsDouble(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number) return null;
        if (value.TryGetValue(out double d)) return d;
        if (value.TryGetValue(out long l)) return l;
        if (value.TryGetValue(out int i)) return i;
        if (value.TryGetValue(out decimal m)) return (double)m;
        return value.TryGetValue(out float f) ? f : null;
    }

    public static long? AsLong(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number) return null;
        if (value.TryGetValue(out long l)) return l;
        if (value.TryGetValue(out int i)) return i;
        return AsDouble(node) is { } d && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d : null;
    }
}
