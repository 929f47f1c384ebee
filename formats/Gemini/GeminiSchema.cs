using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Gemini's OpenAPI-style <c>Schema</c> (function <c>parameters</c>, <c>responseSchema</c>) spells types as enum
/// names (<c>"OBJECT"</c>, <c>"STRING"</c>); the canonical model holds JSON Schema, whose types are lower case.
/// Gemini accepts lower-case types in both places, so the conversion is safe in both directions.
/// </summary>
internal static class GeminiSchema
{
    /// <summary>A copy of <paramref name="schema"/> (independent of its document) with every <c>type</c> keyword lower-cased.</summary>
    public static JsonNode? ToJsonSchema(JsonElement schema)
    {
        var copy = JsonText.ToNode(schema);
        LowerTypes(copy);
        return copy;
    }

    private static void LowerTypes(JsonNode? node)
    {
        if (node is not JsonObject schema) return;
        if (GeminiJson.AsString(schema["type"]) is { } type) schema["type"] = type.ToLowerInvariant();
        foreach (var key in (string[])["items", "additionalProperties", "not"])
            LowerTypes(schema[key]);
        foreach (var key in (string[])["anyOf", "oneOf", "allOf", "prefixItems"])
        {
            if (schema[key] is JsonArray list)
                foreach (var item in list) LowerTypes(item);
        }
        foreach (var key in (string[])["properties", "$defs", "definitions"])
        {
            if (schema[key] is JsonObject map)
                foreach (var (_, value) in map) LowerTypes(value);
        }
    }
}
