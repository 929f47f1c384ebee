using System.Globalization;
using System.Text;
using System.Text.Json;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Strict readers over a client body's <see cref="JsonElement"/>s, with the rules of <see cref="GeminiJson"/>'s DOM
/// readers: camelCase first, then the snake_case twin; JSON null counts as absent; a wrong type is a
/// <see cref="RequestFormatException"/> naming the field.
/// </summary>
internal static class GeminiElement
{
    /// <summary>The field spelled <paramref name="camelName"/> or its snake_case twin, unless absent or null.</summary>
    public static bool TryGet(JsonElement obj, string camelName, out JsonElement value)
    {
        if (obj.TryGetProperty(camelName, out value) && value.ValueKind != JsonValueKind.Null) return true;
        // The snake_case name is spelled into a stack buffer: a lookup allocates nothing.
        Span<byte> snake = stackalloc byte[camelName.Length * 2];
        var length = 0;
        var hasUpper = false;
        foreach (var c in camelName)
        {
            if (char.IsUpper(c))
            {
                hasUpper = true;
                snake[length++] = (byte)'_';
                snake[length++] = (byte)char.ToLowerInvariant(c);
            }
            else
            {
                snake[length++] = (byte)c;
            }
        }
        if (hasUpper && obj.TryGetProperty(snake[..length], out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public static bool Has(JsonElement obj, string camelName) => TryGet(obj, camelName, out _);

    public static bool OptionalObject(JsonElement obj, string camelName, in RequestPath path, out JsonElement value)
    {
        if (!TryGet(obj, camelName, out value)) return false;
        if (value.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{path.Field(camelName)} must be an object");
        return true;
    }

    public static bool OptionalArray(JsonElement obj, string camelName, in RequestPath path, out JsonElement value)
    {
        if (!TryGet(obj, camelName, out value)) return false;
        if (value.ValueKind != JsonValueKind.Array) throw new RequestFormatException($"{path.Field(camelName)} must be an array");
        return true;
    }

    public static string? OptionalString(JsonElement obj, string camelName, in RequestPath path)
    {
        if (!TryGet(obj, camelName, out var value)) return null;
        return LenientJson.String(value) ?? throw new RequestFormatException($"{path.Field(camelName)} must be a string");
    }

    public static double? OptionalDouble(JsonElement obj, string camelName, in RequestPath path)
    {
        if (!TryGet(obj, camelName, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d)) return d;
        throw new RequestFormatException($"{path.Field(camelName)} must be a number");
    }

    /// <summary>An integer written as a JSON integer or, as proto JSON writes int64, a string.</summary>
    public static long? OptionalLong(JsonElement obj, string camelName, in RequestPath path)
    {
        if (!TryGet(obj, camelName, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l)) return l;
        if (value.ValueKind == JsonValueKind.String
            && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return parsed;
        throw new RequestFormatException($"{path.Field(camelName)} must be an integer");
    }

    public static int? OptionalInt(JsonElement obj, string camelName, in RequestPath path)
    {
        var value = OptionalLong(obj, camelName, path);
        if (value is null) return null;
        if (value is < int.MinValue or > int.MaxValue) throw new RequestFormatException($"{path.Field(camelName)} is out of range");
        return (int)value.Value;
    }

    public static bool? OptionalBool(JsonElement obj, string camelName, in RequestPath path)
    {
        if (!TryGet(obj, camelName, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new RequestFormatException($"{path.Field(camelName)} must be a boolean"),
        };
    }

    public static void RequireObject(JsonElement value, in RequestPath path)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{path} must be an object");
    }
}

/// <summary>
/// Where a field sits in a request, for error messages only. Up to three segments (a name and an optional index) are
/// kept unformatted and written out only when an error is thrown, so a valid body builds no path strings; a fourth
/// (a part nested in a function response) formats the first three.
/// </summary>
internal readonly struct RequestPath
{
    private readonly string? _prefix;
    private readonly string? _name1, _name2, _name3;
    private readonly int _index1, _index2, _index3;

    /// <summary>A path already written out, such as <c>"generationConfig"</c>; the root is <c>default</c>.</summary>
    public RequestPath(string prefix) : this(prefix, null, -1, null, -1, null, -1) { }

    private RequestPath(string? prefix, string? name1, int index1, string? name2, int index2, string? name3, int index3)
    {
        _prefix = prefix;
        (_name1, _index1, _name2, _index2, _name3, _index3) = (name1, index1, name2, index2, name3, index3);
    }

    /// <summary>The path of <paramref name="name"/> inside this one, or of its item at <paramref name="index"/>.</summary>
    public RequestPath Append(string name, int index = -1)
    {
        if (_name1 is null) return new(_prefix, name, index, null, -1, null, -1);
        if (_name2 is null) return new(_prefix, _name1, _index1, name, index, null, -1);
        if (_name3 is null) return new(_prefix, _name1, _index1, _name2, _index2, name, index);
        return new(ToString(), name, index, null, -1, null, -1);
    }

    /// <summary>A field's path for an error message; top-level fields have no parent.</summary>
    public string Field(string name)
    {
        var path = ToString();
        return path.Length == 0 ? name : path + "." + name;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(_prefix);
        Write(sb, _name1, _index1);
        Write(sb, _name2, _index2);
        Write(sb, _name3, _index3);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, string? name, int index)
    {
        if (name is null) return;
        if (sb.Length > 0) sb.Append('.');
        sb.Append(name);
        if (index >= 0) sb.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
    }
}
