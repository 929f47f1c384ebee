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
    public static JsonElement ToJson(YamlMappingNode? root) =>
        root is null ? default : JsonSerializer.SerializeToElement(Convert(root), JsonNodeContext.Default.JsonNode);

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children
            .Where(kv => kv.Key is YamlScalarNode)
            .GroupBy(kv => ((YamlScalarNode)kv.Key).Value ?? "")
            .Select(g => KeyValuePair.Create(g.Key, Convert(g.Last().Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Convert)]),
        YamlScalarNode { Value: null } => null,
        YamlScalarNode scalar when scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "" => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;
