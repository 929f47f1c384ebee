using System.Globalization;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Host.Models;

/// <summary>
/// A requested model split into its base name and the thinking suffix of <c>model(value)</c>: <c>none</c>,
/// <c>auto</c> or <c>-1</c>, a level (minimal, low, medium, high, xhigh), or a token budget. Parsed once per request.
/// </summary>
internal readonly record struct ModelName(string Base, ReasoningSuffix? Suffix)
{
    private static readonly HashSet<string> Levels = new(StringComparer.OrdinalIgnoreCase) { "minimal", "low", "medium", "high", "xhigh" };

    public static ModelName Parse(string model)
    {
        var open = model.LastIndexOf('(');
        if (open <= 0 || !model.EndsWith(')')) return new ModelName(model, null);
        var raw = model[(open + 1)..^1].Trim();
        var name = model[..open];
        if (raw.Length == 0) return new ModelName(name, null); // "m()": a suffix with nothing in it
        ReasoningSuffix? suffix = raw.ToLowerInvariant() switch
        {
            "none" => new ReasoningSuffix("none", 0),
            "auto" or "-1" => new ReasoningSuffix("auto", -1),
            var level when Levels.Contains(level) => new ReasoningSuffix(level, null),
            _ when int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var budget) => budget == 0 ? new ReasoningSuffix("none", 0) : new ReasoningSuffix(null, budget),
            _ => null,
        };
        // Not a thinking suffix ("kimi(free)"): the parentheses are part of the model's name.
        return suffix is null ? new ModelName(model, null) : new ModelName(name, suffix with { Raw = raw });
    }
}
