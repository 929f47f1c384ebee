using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Plugins.Amp.Config;

namespace PluginProxy.Plugins.Amp.Mapping;

/// <summary>One <c>model-mappings</c> entry: <c>from</c> is a model name, or with <c>regex: true</c> a pattern matched
/// (unanchored, ignoring case) against the requested model's base name.</summary>
internal sealed record ModelMapping(string From, string To, Regex? Pattern);

/// <summary>
/// The <c>ampcode.model-mappings</c> table. A model is mapped to the first entry whose target some local account
/// serves: exact entries (ignoring case) before regex entries, each in config order. The request's thinking suffix is
/// kept unless the target names its own.
/// </summary>
internal sealed class ModelMappings
{
    public static readonly ModelMappings Empty = new([], []);

    // A pathological pattern from config.yaml must not stall requests.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly IReadOnlyList<ModelMapping> _exact;
    private readonly IReadOnlyList<ModelMapping> _regex;

    private ModelMappings(IReadOnlyList<ModelMapping> exact, IReadOnlyList<ModelMapping> regex)
    {
        _exact = exact;
        _regex = regex;
    }

    public int Count => _exact.Count + _regex.Count;

    public static ModelMappings Parse(JsonElement entries)
    {
        if (entries.ValueKind != JsonValueKind.Array) return Empty;
        var exact = new List<ModelMapping>();
        var regex = new List<ModelMapping>();
        foreach (var entry in entries.EnumerateArray())
        {
            var from = AmpSettings.String(entry, "from");
            var to = AmpSettings.String(entry, "to");
            if (from is null || to is null) continue;
            if (!AmpSettings.Bool(entry, "regex"))
            {
                exact.Add(new ModelMapping(ModelName.Parse(from).Base, to, null));
                continue;
            }
            try
            {
                regex.Add(new ModelMapping(from, to, new Regex(from, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, MatchTimeout)));
            }
            catch (ArgumentException)
            {
                // An invalid pattern maps nothing; the other entries still apply.
            }
        }
        return new ModelMappings(exact, regex);
    }

    /// <summary>The model to serve <paramref name="requested"/> with, or null when no entry matches a served target.</summary>
    public string? Map(string requested, Func<string, bool> isAvailable)
    {
        var name = ModelName.Parse(requested);
        if (name.Base.Length == 0) return null;
        foreach (var mapping in _exact)
        {
            if (string.Equals(mapping.From, name.Base, StringComparison.OrdinalIgnoreCase) && Target(mapping, name, isAvailable) is { } target) return target;
        }
        foreach (var mapping in _regex)
        {
            if (Matches(mapping.Pattern!, name.Base) && Target(mapping, name, isAvailable) is { } target) return target;
        }
        return null;
    }

    private static string? Target(ModelMapping mapping, ModelName requested, Func<string, bool> isAvailable)
    {
        var target = ModelName.Parse(mapping.To);
        if (!isAvailable(target.Base)) return null;
        return (target.Suffix is null ? target with { Suffix = requested.Suffix } : target).ToString();
    }

    private static bool Matches(Regex pattern, string model)
    {
        try
        {
            return pattern.IsMatch(model);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
