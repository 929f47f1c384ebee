using System.Text.Json.Nodes;
using System.Text.Json;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Typed reads of JSON values. The <c>Optional*</c>/<c>Required*</c> methods are for client input: JSON null counts
/// as absent, a wrong type throws <see cref="RequestFormatException"/> naming the field. The <c>As*</c> methods are
/// for upstream bodies, which are read leniently (a wrong type reads as absent).
/// The <see cref="JsonElement"/> overloads read a client body in place (the request decoder): a missing key and JSON
/// null both read as absent, as <c>obj["k"]</c> does on the DOM, numbers are accepted by the same rules, and the
/// field's path is formatted only when a read throws.
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

    /// <summary><paramref name="obj"/>'s value for <paramref name="key"/>; <c>default</c> (Undefined) when missing.</summary>
    public static JsonElement Get(JsonElement obj, ReadOnlySpan<byte> key) => obj.TryGetProperty(key, out var value) ? value : default;

    public static string? OptionalString(JsonElement value, in FieldPath at, string? leaf = null) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => throw Fail(at, leaf, "must be a string"),
    };

    public static string RequiredString(JsonElement value, in FieldPath at, string? leaf = null) =>
        OptionalString(value, at, leaf) ?? throw Fail(at, leaf, "is required");

    /// <summary>Checks what <see cref="RequiredString(JsonElement, in FieldPath, string?)"/> checks, without reading the string out (for compares).</summary>
    public static void RequireString(JsonElement value, in FieldPath at, string? leaf = null)
    {
        if (value.ValueKind == JsonValueKind.String) return;
        throw LenientJson.IsAbsent(value) ? Fail(at, leaf, "is required") : Fail(at, leaf, "must be a string");
    }

    public static double? OptionalNumber(JsonElement value, in FieldPath at, string? leaf = null) =>
        LenientJson.IsAbsent(value) ? null : AsDouble(value) ?? throw Fail(at, leaf, "must be a number");

    public static long? OptionalInteger(JsonElement value, in FieldPath at, string? leaf = null) =>
        LenientJson.IsAbsent(value) ? null : AsLong(value) ?? throw Fail(at, leaf, "must be an integer");

    public static int? OptionalInt32(JsonElement value, in FieldPath at, string? leaf = null)
    {
        var number = OptionalInteger(value, at, leaf);
        if (number is < int.MinValue or > int.MaxValue) throw Fail(at, leaf, "is out of range");
        return (int?)number;
    }

    public static bool? OptionalBool(JsonElement value, in FieldPath at, string? leaf = null) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Fail(at, leaf, "must be a boolean"),
    };

    /// <summary>True for an object, false when absent; any other value throws.</summary>
    public static bool OptionalObject(JsonElement value, in FieldPath at, string? leaf = null) => value.ValueKind switch
    {
        JsonValueKind.Object => true,
        JsonValueKind.Undefined or JsonValueKind.Null => false,
        _ => throw Fail(at, leaf, "must be an object"),
    };

    /// <summary>True for an array, false when absent; any other value throws.</summary>
    public static bool OptionalArray(JsonElement value, in FieldPath at, string? leaf = null) => value.ValueKind switch
    {
        JsonValueKind.Array => true,
        JsonValueKind.Undefined or JsonValueKind.Null => false,
        _ => throw Fail(at, leaf, "must be an array"),
    };

    /// <summary>The error for the field at <paramref name="at"/>.<paramref name="leaf"/>; the path is formatted here only.</summary>
    public static RequestFormatException Fail(in FieldPath at, string? leaf, string problem) => new($"'{at.Format(leaf)}' {problem}");

    /// <summary>The DOM's number reading on an element-backed value, tried in the same order (see <see cref="AsDouble(JsonNode?)"/>).</summary>
    public static double? AsDouble(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number) return null;
        if (value.TryGetDouble(out var d)) return d;
        if (value.TryGetInt64(out var l)) return l;
        if (value.TryGetInt32(out var i)) return i;
        if (value.TryGetDecimal(out var m)) return (double)m;
        return value.TryGetSingle(out var f) ? f : null;
    }

    public static long? AsLong(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number) return null;
        if (value.TryGetInt64(out var l)) return l;
        if (value.TryGetInt32(out var i)) return i;
        return AsDouble(value) is { } d && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d : null;
    }
}
