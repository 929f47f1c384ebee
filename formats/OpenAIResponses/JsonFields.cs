using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Typed reads of client request fields. A present value of the wrong type is a client error, reported as
/// <see cref="RequestFormatException"/> naming the field; absent and JSON <c>null</c> read as null.
/// </summary>
internal static class RequestFields
{
    public static string? String(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => throw new RequestFormatException($"{path} must be a string"),
        };

    public static string RequiredString(JsonObject obj, string key, string path) =>
        String(obj, key, path) ?? throw new RequestFormatException($"{path} is required");

    public static bool? Bool(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw new RequestFormatException($"{path} must be a boolean"),
        };

    public static double? Number(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) => d,
            _ => throw new RequestFormatException($"{path} must be a number"),
        };

    public static int? Integer(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) => i,
            _ => throw new RequestFormatException($"{path} must be an integer"),
        };

    public static JsonObject? Object(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonObject o => o,
            _ => throw new RequestFormatException($"{path} must be an object"),
        };

    public static JsonArray? Array(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonArray a => a,
            _ => throw new RequestFormatException($"{path} must be an array"),
        };
}

/// <summary>Forgiving reads of upstream JSON: anything missing or of another type reads as null.</summary>
internal static class Lenient
{
    public static string? String(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? Long(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l) ? l : null;

    public static JsonObject? Object(JsonNode? node) => node as JsonObject;

    public static IEnumerable<JsonObject> Objects(JsonNode? node) =>
        node is JsonArray array ? array.OfType<JsonObject>() : [];
}
