using System.Text;
using System.Text.Json.Nodes;

namespace PluginProxy.Host.Payload;

/// <summary>
/// Dot paths into a JSON body, as CLIProxyAPI's payload rules write them: <c>generationConfig.thinkingConfig.thinkingBudget</c>,
/// numeric segments index arrays (<c>tools.0.name</c>), <c>\.</c> escapes a dot inside a key.
/// </summary>
internal static class JsonPath
{
    public static IReadOnlyList<string> Split(string path)
    {
        var segments = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '\\' && i + 1 < path.Length && path[i + 1] == '.')
            {
                current.Append('.');
                i++;
            }
            else if (path[i] == '.')
            {
                segments.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(path[i]);
            }
        }
        segments.Add(current.ToString());
        return segments;
    }

    public static bool Exists(JsonNode root, IReadOnlyList<string> path) => Find(root, path, path.Count, out _);

    /// <summary>Sets the value, creating objects along the way; an existing array is indexed by numeric segments.</summary>
    public static void Set(JsonObject root, IReadOnlyList<string> path, JsonNode? value)
    {
        JsonNode node = root;
        for (var i = 0; i < path.Count - 1; i++)
        {
            var next = Child(node, path[i]);
            if (next is not (JsonObject or JsonArray))
            {
                next = new JsonObject();
                if (!Assign(node, path[i], next)) return;
            }
            node = next;
        }
        Assign(node, path[^1], value?.DeepClone()); // rules are shared: every body gets its own copy of the value
    }

    public static void Remove(JsonNode root, IReadOnlyList<string> path)
    {
        if (!Find(root, path, path.Count - 1, out var parent)) return;
        switch (parent)
        {
            case JsonObject o:
                o.Remove(path[^1]);
                break;
            case JsonArray a when int.TryParse(path[^1], out var index) && index >= 0 && index < a.Count:
                a.RemoveAt(index);
                break;
        }
    }

    private static bool Find(JsonNode root, IReadOnlyList<string> path, int depth, out JsonNode? node)
    {
        node = root;
        for (var i = 0; i < depth; i++)
        {
            node = node is null ? null : Child(node, path[i]);
            if (node is null) return false;
        }
        if (depth == path.Count) return true;
        return node is JsonObject or JsonArray;
    }

    private static JsonNode? Child(JsonNode node, string segment) => node switch
    {
        JsonObject o => o.TryGetPropertyValue(segment, out var v) ? v ?? JsonValue.Create((string?)null) : null,
        JsonArray a when int.TryParse(segment, out var index) && index >= 0 && index < a.Count => a[index],
        _ => null,
    };

    private static bool Assign(JsonNode node, string segment, JsonNode? value)
    {
        switch (node)
        {
            case JsonObject o:
                o[segment] = value;
                return true;
            case JsonArray a when int.TryParse(segment, out var index) && index >= 0 && index < a.Count:
                a[index] = value;
                return true;
            case JsonArray a when segment == "-1":
                a.Add(value);
                return true;
            default:
                return false;
        }
    }
}
