using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PluginProxy.Host.Payload;

/// <summary>
/// The <c>payload:</c> block of config.yaml, compiled: edits applied to upstream request bodies. Order, as in
/// CLIProxyAPI: <c>default</c> and <c>default-raw</c> set a path only when the body did not have it (first rule wins),
/// <c>override</c> and <c>override-raw</c> always set it (last wins), <c>filter</c> deletes paths. A rule applies when
/// one of its model globs matches the upstream model, the requested base model or the requested model with its
/// suffix, and its protocol (openai, claude, gemini, codex) is empty or the upstream's.
/// </summary>
internal sealed class PayloadRules
{
    public static readonly PayloadRules Empty = new([], [], []);

    private sealed record Match(string Name, string? Protocol);
    private sealed record Rule(ImmutableArray<Match> Models, ImmutableArray<(IReadOnlyList<string> Path, JsonNode? Value)> Params);
    private sealed record Filter(ImmutableArray<Match> Models, ImmutableArray<IReadOnlyList<string>> Paths);

    private readonly ImmutableArray<Rule> _defaults;
    private readonly ImmutableArray<Rule> _overrides;
    private readonly ImmutableArray<Filter> _filters;

    private PayloadRules(ImmutableArray<Rule> defaults, ImmutableArray<Rule> overrides, ImmutableArray<Filter> filters)
    {
        _defaults = defaults;
        _overrides = overrides;
        _filters = filters;
    }

    public bool IsEmpty => _defaults.IsEmpty && _overrides.IsEmpty && _filters.IsEmpty;

    /// <summary>The protocol name payload rules use for an upstream dialect.</summary>
    public static string ProtocolOf(Dialect dialect) => dialect switch
    {
        Dialect.OpenAIChat => "openai",
        Dialect.OpenAIResponses => "codex",
        Dialect.Anthropic => "claude",
        _ => "gemini",
    };

    /// <summary>True when some rule would touch a body for this protocol and these model names.</summary>
    public bool AppliesTo(string protocol, IReadOnlyList<string> models) =>
        _defaults.Concat(_overrides).Any(r => Matches(r.Models, protocol, models)) || _filters.Any(f => Matches(f.Models, protocol, models));

    /// <summary>Edits the body in place.</summary>
    public void Apply(JsonObject body, string protocol, IReadOnlyList<string> models)
    {
        // Defaults fill only paths the body did not have before any default ran, so decide for all of them first.
        var defaults = _defaults.Where(r => Matches(r.Models, protocol, models))
            .SelectMany(r => r.Params)
            .DistinctBy(p => string.Join('\u0001', p.Path))
            .Where(p => !JsonPath.Exists(body, p.Path))
            .ToList();
        foreach (var (path, value) in defaults) JsonPath.Set(body, path, value);
        foreach (var rule in _overrides.Where(r => Matches(r.Models, protocol, models)))
            foreach (var (path, value) in rule.Params)
                JsonPath.Set(body, path, value);
        foreach (var filter in _filters.Where(f => Matches(f.Models, protocol, models)))
            foreach (var path in filter.Paths)
                JsonPath.Remove(body, path);
    }

    private static bool Matches(ImmutableArray<Match> matches, string protocol, IReadOnlyList<string> models) =>
        matches.Any(m => (string.IsNullOrEmpty(m.Protocol) || string.Equals(m.Protocol, protocol, StringComparison.OrdinalIgnoreCase)
                                                             || (protocol == "codex" && m.Protocol is "openai-response" or "responses"))
                         && models.Any(model => ModelPattern.Matches(m.Name, model)));

    /// <summary>Compiles the YAML node; throws <see cref="FormatException"/> naming the offending rule.</summary>
    public static PayloadRules Parse(YamlNode? node)
    {
        if (node is not YamlMappingNode map) return Empty;
        var defaults = Rules(map, "default", raw: false).Concat(Rules(map, "default-raw", raw: true));
        var overrides = Rules(map, "override", raw: false).Concat(Rules(map, "override-raw", raw: true));
        var filters = Sequence(map, "filter").Select((r, i) => new Filter(Models(r, $"filter[{i}]"),
            [.. (Child(r, "params") as YamlSequenceNode ?? new YamlSequenceNode()).Children.OfType<YamlScalarNode>().Select(s => JsonPath.Split(s.Value ?? ""))]));
        return new PayloadRules([.. defaults], [.. overrides], [.. filters]);
    }

    private static IEnumerable<Rule> Rules(YamlMappingNode map, string key, bool raw) =>
        Sequence(map, key).Select((r, i) =>
        {
            var where = $"{key}[{i}]";
            var parameters = Child(r, "params") as YamlMappingNode ?? throw new FormatException($"{where} has no params mapping");
            return new Rule(Models(r, where), [.. parameters.Children.Select(p =>
            {
                var path = (p.Key as YamlScalarNode)?.Value ?? throw new FormatException($"{where}: a param key is not a string");
                return (JsonPath.Split(path), raw ? RawJson(p.Value, $"{where}.{path}") : ToJson(p.Value));
            })]);
        });

    private static ImmutableArray<Match> Models(YamlMappingNode rule, string where)
    {
        var models = Child(rule, "models") as YamlSequenceNode ?? throw new FormatException($"{where} has no models list");
        return [.. models.Children.OfType<YamlMappingNode>().Select(m =>
            new Match((Child(m, "name") as YamlScalarNode)?.Value ?? throw new FormatException($"{where}: a model entry has no name"),
                (Child(m, "protocol") as YamlScalarNode)?.Value))];
    }

    private static IEnumerable<YamlMappingNode> Sequence(YamlMappingNode map, string key) =>
        (Child(map, key) as YamlSequenceNode)?.Children.OfType<YamlMappingNode>() ?? [];

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static JsonNode? RawJson(YamlNode node, string where)
    {
        if (node is not YamlScalarNode { Value: { } text }) return ToJson(node);
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new FormatException($"{where} is not valid JSON");
        }
    }

    /// <summary>YAML to JSON with YAML's core types: plain scalars become null, booleans or numbers; quoted ones stay strings.</summary>
    internal static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray([.. s.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain } p => Plain(p.Value ?? ""),
        YamlScalarNode q => JsonValue.Create(q.Value ?? ""),
        _ => null,
    };

    private static JsonNode? Plain(string text) => text switch
    {
        "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        _ => JsonValue.Create(text),
    };
}
