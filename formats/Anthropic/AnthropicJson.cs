using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Typed reads from client JSON. Every wrong type becomes a <see cref="RequestFormatException"/> naming the field,
/// so no cast or null error can escape from request decoding.
/// </summary>
internal static class AnthropicJson
{
    public static string Path(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    public static string Path(string parent, int index) => $"{parent}[{index}]";

    public static JsonObject Object(JsonNode? node, string path) =>
        node as JsonObject ?? throw new RequestFormatException($"{path} must be an object");

    public static JsonObject? OptionalObject(JsonObject obj, string key, string path) => obj[key] switch
    {
        null => null,
        JsonObject value => value,
        _ => throw new RequestFormatException($"{Path(path, key)} must be an object"),
    };

    public static JsonArray? OptionalArray(JsonObject obj, string key, string path) => obj[key] switch
    {
        null => null,
        JsonArray value => value,
        _ => throw new RequestFormatException($"{Path(path, key)} must be an array"),
    };

    public static string? OptionalString(JsonObject obj, string key, string path) => obj[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw new RequestFormatException($"{Path(path, key)} must be a string"),
    };

    public static string RequiredString(JsonObject obj, string key, string path) =>
        OptionalString(obj, key, path) ?? throw new RequestFormatException($"{Path(path, key)} is required");

    public static double? OptionalNumber(JsonObject obj, string key, string path) => obj[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.Number =>
            double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => throw new RequestFormatException($"{Path(path, key)} must be a number"),
    };

    public static int? OptionalInt(JsonObject obj, string key, string path)
    {
        if (OptionalNumber(obj, key, path) is not { } number) return null;
        if (number != Math.Floor(number) || number > int.MaxValue || number < int.MinValue)
            throw new RequestFormatException($"{Path(path, key)} must be an integer");
        return (int)number;
    }

    public static bool? OptionalBool(JsonObject obj, string key, string path) => obj[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.True => true,
        JsonValue value when value.GetValueKind() == JsonValueKind.False => false,
        _ => throw new RequestFormatException($"{Path(path, key)} must be a boolean"),
    };

    /// <summary>A number from upstream JSON, 0 when absent or not a number (upstream bodies are not validated).</summary>
    public static long Count(JsonObject? obj, string key) =>
        obj?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? (long)double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : 0;

    /// <summary>A string from upstream JSON, null when absent or not a string.</summary>
    public static string? Text(JsonObject? obj, string key) =>
        obj?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
