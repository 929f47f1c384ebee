using System.Text;
using System.Text.Json;

namespace PluginProxy.Formats.Sse;

/// <summary>
/// A stream dialect's event names and what they mean to its decoder. An event's type is its data's <c>type</c> when
/// that is a string (compared as UTF-8, no string made), else its <c>event:</c> line; an unknown name is
/// <c>default(T)</c>, which decoders name <c>Other</c>. List the frequent names (the deltas) first.
/// </summary>
internal sealed class SseEventTypes<T>(params (string Name, T Type)[] names) where T : struct, Enum
{
    private readonly (string Name, byte[] Utf8, T Type)[] _names = [.. names.Select(n => (n.Name, Encoding.UTF8.GetBytes(n.Name), n.Type))];

    public T Of(JsonElement type, string? eventName)
    {
        if (type.ValueKind == JsonValueKind.String)
        {
            foreach (var (_, utf8, value) in _names)
                if (type.ValueEquals(utf8)) return value;
            return default;
        }
        foreach (var (name, _, value) in _names)
            if (name == eventName) return value;
        return default;
    }
}
