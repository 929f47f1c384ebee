using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Typed reads. Client JSON is read as elements and every wrong type becomes a <see cref="FieldError"/> naming the
/// field, so no cast or null error can escape from request decoding; upstream JSON (answers) is read leniently.
/// A missing key and an explicit <c>null</c> read the same.
/// </summary>
internal static class AnthropicJson
{
    // ---- client JSON, as elements ----

    /// <summary>The value of <paramref name="key"/>, false when it is missing or null.</summary>
    public static bool TryGet(JsonElement obj, string key, out JsonElement value)
    {
        if (obj.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public static bool Has(JsonElement obj, string key) => TryGet(obj, key, out _);

    public static JsonElement Object(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object ? element : throw new FieldError("", "must be an object");

    public static JsonElement? OptionalObject(JsonElement obj, string key) =>
        !TryGet(obj, key, out var value) ? null
        : value.ValueKind == JsonValueKind.Object ? value
        : throw new FieldError(key, "must be an object");

    public static JsonElement? OptionalArray(JsonElement obj, string key) =>
        !TryGet(obj, key, out var value) ? null
        : value.ValueKind == JsonValueKind.Array ? value
        : throw new FieldError(key, "must be an array");

    public static string? OptionalString(JsonElement obj, string key) =>
        !TryGet(obj, key, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new FieldError(key, "must be a string");

    public static string RequiredString(JsonElement obj, string key) =>
        OptionalString(obj, key) ?? throw new FieldError(key, "is required");

    public static double? OptionalNumber(JsonElement obj, string key)
    {
        if (!TryGet(obj, key, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number) throw new FieldError(key, "must be a number");
        // Out of double's range reads as infinity, as double.Parse does (TryGetDouble refuses it).
        return value.TryGetDouble(out var number) ? number : double.Parse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static int? OptionalInt(JsonElement obj, string key)
    {
        if (OptionalNumber(obj, key) is not { } number) return null;
        if (number != Math.Floor(number) || number > int.MaxValue || number < int.MinValue)
            throw new FieldError(key, "must be an integer");
        return (int)number;
    }

    public static bool? OptionalBool(JsonElement obj, string key) =>
        !TryGet(obj, key, out var value) ? null
        : value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FieldError(key, "must be a boolean"),
        };

    /// <summary>A string member, null when absent or not a string (no error).</summary>
    public static string? Text(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    // ---- upstream JSON, as elements (stream events): lenient, as the DOM readers below ----

    /// <summary>
    /// A number from upstream JSON, 0 when <paramref name="obj"/> is not an object or the member is absent or not a
    /// number; read through a double, as <see cref="Count(JsonObject?, string)"/> reads it.
    /// </summary>
    public static long Count(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number
            ? ToCount(value)
            : 0;

    /// <summary>A JSON number as a count (through a double; out of double's range reads as infinity does).</summary>
    public static long ToCount(JsonElement number) =>
        number.TryGetDouble(out var d) ? (long)d : (long)double.Parse(number.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>The member <paramref name="key"/> when it is an object (upstream JSON: anything else reads as absent).</summary>
    public static bool TryObject(JsonElement obj, string key, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out value) && value.ValueKind == JsonValueKind.Object) return true;
        value = default;
        return false;
    }

    // ---- upstream JSON, as a DOM ----
    /// <summary>A number from upstream JSON, 0 when absent or not a number (upstream bodies are not validated).</summary>
    public static long Count(JsonObject? obj, string key) =>
        obj?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? (long)double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : 0;

    /// <summary>A string from upstream JSON, null when absent or not a string.</summary>
    public static string? Text(JsonObject? obj, string key) =>
        obj?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}

/// <summary>
/// A client field that is wrong, with its path relative to the element being read. Callers add their own step as it
/// passes up (<see cref="Under(string)"/>, <see cref="Under(int)"/>), so no path is built unless something is wrong.
/// </summary>
internal sealed class FieldError(string path, string problem) : Exception
{
    public string FieldPath { get; } = path;

    public string Problem { get; } = problem;

    public override string Message => FieldPath.Length == 0 ? Problem : FieldPath + " " + Problem;

    /// <summary>The same error seen from the object that holds this field under <paramref name="key"/>.</summary>
    public FieldError Under(string key) => new(Join(key, FieldPath), Problem);

    /// <summary>The same error seen from the array that holds this item at <paramref name="index"/>.</summary>
    public FieldError Under(int index) => new(Join($"[{index}]", FieldPath), Problem);

    public RequestFormatException ToRequestFormat() => new(Message);

    private static string Join(string parent, string child) =>
        child.Length == 0 ? parent : child[0] == '[' ? parent + child : parent + "." + child;
}
