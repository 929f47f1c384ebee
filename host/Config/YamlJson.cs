using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace PluginProxy.Host.Config;

/// <summary>
/// The YAML node tree as JSON, for what plugins read (<c>providers.&lt;id&gt;</c>, <c>ampcode</c>). Scalars stay strings:
/// plugins read them through <c>PluginSettings</c>, which parses numbers and booleans on demand.
/// </summary>
internal static class YamlJson
{
    /// <summary>Nodes one conversion may produce: aliases are expanded, so a few lines of nested aliases could otherwise build billions.</summary>
    internal const int NodeBudget = 1_000_000;

    /// <summary>Nesting deeper than this is refused (a self-referencing alias would otherwise recurse forever).</summary>
    internal const int MaxDepth = 256;

    public static JsonElement ToJson(YamlMappingNode? root)
    {
        if (root is null) return default;
        var budget = NodeBudget;
        var path = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        return JsonSerializer.SerializeToElement(Convert(root, ref budget, path), JsonNodeContext.Default.JsonNode);
    }

    private static JsonNode? Convert(YamlNode node, ref int budget, HashSet<YamlNode> path)
    {
        if (--budget < 0)
            throw new ConfigException($"the config expands to more than {NodeBudget:N0} nodes (nested YAML aliases?); refusing it");
        if (path.Count >= MaxDepth)
            throw new ConfigException($"the config nests deeper than {MaxDepth} levels; refusing it");
        switch (node)
        {
            case YamlMappingNode or YamlSequenceNode when !path.Add(node):
                throw new ConfigException("the config contains a YAML alias that refers to itself; refusing it");
            case YamlMappingNode map:
            {
                var result = new JsonObject();
                foreach (var (key, value) in map.Children)
                    if (key is YamlScalarNode k) result[k.Value ?? ""] = Convert(value, ref budget, path); // the last occurrence wins
                path.Remove(node);
                return result;
            }
            case YamlSequenceNode list:
            {
                var result = new JsonArray();
                foreach (var item in list.Children) result.Add(Convert(item, ref budget, path));
                path.Remove(node);
                return result;
            }
            case YamlScalarNode { Value: null }:
                return null;
            case YamlScalarNode scalar when scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "":
                return null;
            case YamlScalarNode scalar:
                return JsonValue.Create(scalar.Value);
            default:
                return null;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;
