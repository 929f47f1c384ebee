using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Plugins.Gemini.Body;

/// <summary>Which of Gemini's two schema fields a schema travels in.</summary>
internal enum SchemaMode
{
    /// <summary><c>parametersJsonSchema</c> / <c>responseJsonSchema</c>: a documented subset of JSON Schema.</summary>
    JsonSchema,
    /// <summary><c>parameters</c> / <c>responseSchema</c>: Gemini's OpenAPI-3.0-style <c>Schema</c> message; unknown keys are a 400.</summary>
    OpenApi,
}

/// <summary>
/// Rewrites a JSON schema (tool parameters, response schemas) into what Gemini accepts: Gemini answers 400
/// "Unknown name" for any keyword its schema has no field for (<c>$schema</c>, <c>exclusiveMinimum</c>,
/// <c>uniqueItems</c>, ...), anywhere in a request. What a keyword meant is kept where Gemini has a way to say it
/// (<c>const</c> as a one-value <c>enum</c>, exclusive bounds as inclusive ones, <c>allOf</c> merged); the rest is dropped.
/// Property names are never touched, only keywords.
/// </summary>
internal static class SchemaCleaner
{
    // Gemini's documented parametersJsonSchema subset (plus propertyOrdering).
    private static readonly HashSet<string> JsonSchemaKeywords =
    [
        "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items", "prefixItems", "minItems", "maxItems",
        "minimum", "maximum", "anyOf", "oneOf", "properties", "additionalProperties", "required", "propertyOrdering",
    ];

    // The fields of Gemini's Schema message.
    private static readonly HashSet<string> OpenApiKeywords =
    [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties",
        "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
    ];

    private static readonly HashSet<string> OpenApiFormats = ["enum", "date-time", "int32", "int64", "float", "double"];

    private const int MaxRefDepth = 8;

    /// <summary>A cleaned copy of <paramref name="schema"/>.</summary>
    public static JsonNode? Clean(JsonNode? schema, SchemaMode mode)
    {
        if (schema is not JsonObject root) return schema?.DeepClone();
        var copy = (JsonObject)root.DeepClone();
        var defs = mode == SchemaMode.OpenApi ? Definitions(copy) : null;
        if (mode == SchemaMode.JsonSchema) RenameDefinitions(copy);
        return CleanNode(copy, mode, defs, 0);
    }

    private static JsonObject CleanNode(JsonObject schema, SchemaMode mode, JsonObject? defs, int refDepth)
    {
        if (mode == SchemaMode.OpenApi && schema["$ref"] is JsonValue refValue)
            schema = ResolveRef(schema, refValue.ToString(), defs, ref refDepth);

        MergeAllOf(schema);
        if (schema["const"] is { } constant && schema["enum"] is null)
            schema["enum"] = new JsonArray(constant.DeepClone());
        InclusiveBounds(schema);
        if (mode == SchemaMode.OpenApi)
        {
            if (schema["oneOf"] is JsonArray oneOf && schema["anyOf"] is null)
            {
                schema.Remove("oneOf");
                schema["anyOf"] = oneOf;
            }
            NullableFromTypes(schema);
            NullableFromAnyOf(schema);
            if (schema["format"] is JsonValue format && !OpenApiFormats.Contains(format.ToString())) schema.Remove("format");
        }
        CleanEnum(schema, mode);

        var allowed = mode == SchemaMode.OpenApi ? OpenApiKeywords : JsonSchemaKeywords;
        foreach (var key in schema.Select(p => p.Key).ToList())
            if (!allowed.Contains(key)) schema.Remove(key);

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var name in properties.Select(p => p.Key).ToList())
                if (properties[name] is JsonObject property) Replace(properties, name, property, CleanNode(property, mode, defs, refDepth));
        }
        else
        {
            schema.Remove("properties");
        }
        switch (schema["items"])
        {
            case JsonObject items:
                Replace(schema, "items", items, CleanNode(items, mode, defs, refDepth));
                break;
            case JsonArray tuple when mode == SchemaMode.OpenApi:
                // Draft-4 tuple items: Gemini's Schema has one item schema; the first is the best it can say.
                schema["items"] = tuple.FirstOrDefault() is JsonObject first ? CleanNode((JsonObject)first.DeepClone(), mode, defs, refDepth) : new JsonObject();
                break;
        }
        foreach (var key in (string[])["anyOf", "oneOf", "prefixItems"])
        {
            if (schema[key] is not JsonArray list) continue;
            for (var i = 0; i < list.Count; i++)
                if (list[i] is JsonObject item) list[i] = CleanNode(Detach(item), mode, defs, refDepth);
        }
        if (schema["$defs"] is JsonObject definitions)
        {
            foreach (var name in definitions.Select(p => p.Key).ToList())
                if (definitions[name] is JsonObject definition) Replace(definitions, name, definition, CleanNode(definition, mode, defs, refDepth));
        }
        if (schema["additionalProperties"] is JsonObject additional)
            Replace(schema, "additionalProperties", additional, CleanNode(additional, mode, defs, refDepth));

        FilterRequired(schema);
        return schema;
    }

    /// <summary>
    /// Gemini's Schema has no references: a <c>$ref</c> to <c>#/$defs/X</c> or <c>#/definitions/X</c> is replaced by a
    /// copy of X (recursive schemas stop after a few levels as a plain object).
    /// </summary>
    private static JsonObject ResolveRef(JsonObject schema, string reference, JsonObject? defs, ref int refDepth)
    {
        var name = reference[(reference.LastIndexOf('/') + 1)..];
        var description = schema["description"]?.DeepClone();
        JsonObject resolved;
        if (refDepth < MaxRefDepth && defs?[name] is JsonObject target)
        {
            resolved = (JsonObject)target.DeepClone();
            refDepth++;
        }
        else
        {
            resolved = new JsonObject { ["type"] = "object" };
        }
        if (description is not null) resolved["description"] = description;
        return resolved;
    }

    private static JsonObject? Definitions(JsonObject root)
    {
        var defs = new JsonObject();
        foreach (var key in (string[])["definitions", "$defs"])
            if (root[key] is JsonObject map)
                foreach (var (name, value) in map) defs[name] = value?.DeepClone();
        return defs;
    }

    /// <summary>Draft-7 <c>definitions</c> become <c>$defs</c> (the only name Gemini knows), references included.</summary>
    private static void RenameDefinitions(JsonObject root)
    {
        if (root["definitions"] is not JsonObject definitions) return;
        root.Remove("definitions");
        if (root["$defs"] is JsonObject defs)
        {
            foreach (var (name, value) in definitions) defs[name] ??= value?.DeepClone();
        }
        else
        {
            root["$defs"] = definitions;
        }
        RewriteRefs(root);
    }

    private static void RewriteRefs(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue value && value.ToString() is var text && text.StartsWith("#/definitions/", StringComparison.Ordinal))
                    obj["$ref"] = "#/$defs/" + text["#/definitions/".Length..];
                foreach (var (_, child) in obj.ToList()) RewriteRefs(child);
                break;
            case JsonArray array:
                foreach (var child in array) RewriteRefs(child);
                break;
        }
    }

    /// <summary><c>allOf</c> parts are merged into the schema: their properties, required names, and type and description when missing.</summary>
    private static void MergeAllOf(JsonObject schema)
    {
        if (schema["allOf"] is not JsonArray parts) return;
        schema.Remove("allOf");
        foreach (var part in parts.OfType<JsonObject>())
        {
            if (part["properties"] is JsonObject properties)
            {
                var target = schema["properties"] as JsonObject ?? (JsonObject)(schema["properties"] = new JsonObject());
                foreach (var (name, value) in properties) target[name] ??= value?.DeepClone();
            }
            if (part["required"] is JsonArray required)
            {
                var target = schema["required"] as JsonArray ?? (JsonArray)(schema["required"] = new JsonArray());
                foreach (var name in required)
                    if (name is not null && !target.Any(n => n?.ToString() == name.ToString())) target.Add(name.DeepClone());
            }
            foreach (var key in (string[])["type", "description"])
                if (schema[key] is null && part[key] is { } value) schema[key] = value.DeepClone();
        }
        if (schema["properties"] is not null && schema["type"] is null) schema["type"] = "object";
    }

    /// <summary>Exclusive bounds become inclusive ones: one step inside for integers, the bound itself for numbers.</summary>
    private static void InclusiveBounds(JsonObject schema)
    {
        var integer = TypeName(schema) == "integer";
        foreach (var (exclusive, inclusive, step) in new[] { ("exclusiveMinimum", "minimum", 1), ("exclusiveMaximum", "maximum", -1) })
        {
            if (schema[exclusive] is not JsonValue value || Number(value) is not { } bound) continue;
            if (schema[inclusive] is null)
            {
                schema[inclusive] = integer ? JsonValue.Create((long)Math.Floor(bound) + (step > 0 ? 1 : (bound == Math.Floor(bound) ? -1 : 0))) : value.DeepClone();
            }
        }
    }

    /// <summary>OpenAPI schema: <c>type: ["string", "null"]</c> becomes <c>type: "string", nullable: true</c>.</summary>
    private static void NullableFromTypes(JsonObject schema)
    {
        if (schema["type"] is not JsonArray types) return;
        var names = types.Select(t => t?.ToString()).Where(t => t is not null).ToList();
        var first = names.FirstOrDefault(t => t != "null");
        schema["type"] = first ?? "string";
        if (names.Contains("null")) schema["nullable"] = true;
    }

    /// <summary>OpenAPI schema: a <c>{"type":"null"}</c> branch of anyOf becomes <c>nullable</c>; one branch left is inlined.</summary>
    private static void NullableFromAnyOf(JsonObject schema)
    {
        if (schema["anyOf"] is not JsonArray anyOf) return;
        var nulls = anyOf.OfType<JsonObject>().Where(b => TypeName(b) == "null" && b.Count == 1).ToList();
        if (nulls.Count == 0) return;
        foreach (var branch in nulls) anyOf.Remove(branch);
        schema["nullable"] = true;
        if (anyOf.Count == 1 && anyOf[0] is JsonObject only)
        {
            schema.Remove("anyOf");
            foreach (var (key, value) in only)
                if (schema[key] is null) schema[key] = value?.DeepClone();
        }
    }

    /// <summary>
    /// JSON Schema mode keeps string and number values; OpenAPI enums are strings only, so values become their text and
    /// the type <c>string</c>.
    /// </summary>
    private static void CleanEnum(JsonObject schema, SchemaMode mode)
    {
        if (schema["enum"] is not JsonArray values) return;
        var kept = new JsonArray();
        foreach (var value in values)
        {
            if (value is not JsonValue v) continue;
            var kind = v.GetValueKind();
            if (mode == SchemaMode.OpenApi)
            {
                if (kind == JsonValueKind.Null) continue;
                kept.Add(kind == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString().ToLower(CultureInfo.InvariantCulture));
            }
            else if (kind is JsonValueKind.String or JsonValueKind.Number)
            {
                kept.Add(v.DeepClone());
            }
        }
        if (kept.Count == 0)
        {
            schema.Remove("enum");
            return;
        }
        schema["enum"] = kept;
        if (mode == SchemaMode.OpenApi) schema["type"] = "string";
    }

    /// <summary>Gemini rejects a <c>required</c> name that is not among the schema's properties.</summary>
    private static void FilterRequired(JsonObject schema)
    {
        if (schema["required"] is not JsonArray required) return;
        var properties = schema["properties"] as JsonObject;
        var kept = new JsonArray();
        foreach (var name in required)
        {
            if (name is JsonValue v && v.GetValueKind() == JsonValueKind.String && properties?.ContainsKey(v.GetValue<string>()) == true
                && !kept.Any(k => k!.GetValue<string>() == v.GetValue<string>()))
                kept.Add(v.GetValue<string>());
        }
        if (kept.Count == 0) schema.Remove("required");
        else schema["required"] = kept;
    }

    // A node cleaned in place stays where it is; a replaced one (a resolved $ref) takes its place.
    private static void Replace(JsonObject parent, string key, JsonObject before, JsonObject after)
    {
        if (!ReferenceEquals(before, after)) parent[key] = after;
    }

    private static JsonObject Detach(JsonObject node) => (JsonObject)node.DeepClone();

    /// <summary>A JSON number as a double, whatever CLR type the node was built from (parsed, int, long, double).</summary>
    internal static double? Number(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string? TypeName(JsonObject schema) =>
        schema["type"] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>().ToLowerInvariant() : null;
}
