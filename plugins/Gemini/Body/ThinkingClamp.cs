using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.Body;

/// <summary>
/// Fits a <c>generationConfig.thinkingConfig</c> to what the model accepts (its catalog <see cref="ThinkingSupport"/>):
/// Gemini answers 400 for a budget outside a model's range, a level on a budget-only model or a level the model lacks.
/// Out-of-range values are clamped rather than refused, whichever dialect they came from; unknown models are left alone.
/// </summary>
internal static class ThinkingClamp
{
    public static void Apply(JsonObject body, ThinkingSupport? support)
    {
        if (support is null || body["generationConfig"] is not JsonObject generation || generation["thinkingConfig"] is not JsonObject thinking) return;
        Camel(thinking, "thinking_budget", "thinkingBudget");
        Camel(thinking, "thinking_level", "thinkingLevel");
        Camel(thinking, "include_thoughts", "includeThoughts");
        if (support.Levels.Count == 0 && support.MaxBudget is 0)
        {
            generation.Remove("thinkingConfig"); // the model does not think; any thinking field is a 400
            return;
        }
        var level = (thinking["thinkingLevel"] as JsonValue)?.ToString().Trim().ToLowerInvariant();
        var budget = thinking["thinkingBudget"] is JsonValue b && SchemaCleaner.Number(b) is { } n0 ? (int?)Math.Clamp(n0, int.MinValue, int.MaxValue) : null;
        var off = false;
        if (support.Levels.Count > 0 && (level is not null || support.MaxBudget is null))
        {
            // A level model: levels are its control (a budget too, when the model has a budget range).
            level ??= budget is { } n ? ThinkingLevels.LevelFor(n) : null;
            thinking.Remove("thinkingBudget");
            thinking.Remove("thinkingLevel");
            if (level is null or "auto") { }
            else
            {
                off = level == "none";
                thinking["thinkingLevel"] = Nearest(support.Levels, off ? support.Levels[0] : level).ToUpperInvariant();
            }
        }
        else
        {
            if (level is not null)
            {
                budget = ThinkingLevels.BudgetFor(level) ?? budget;
                thinking.Remove("thinkingLevel");
            }
            if (budget is { } value)
            {
                var clamped = ClampBudget(value, support);
                thinking["thinkingBudget"] = clamped;
                off = clamped == 0;
            }
        }
        if (off) thinking["includeThoughts"] = false;
        if (thinking.Count == 0) generation.Remove("thinkingConfig");
    }

    internal static int ClampBudget(int budget, ThinkingSupport support)
    {
        var min = support.MinBudget ?? 0;
        var max = support.MaxBudget ?? int.MaxValue;
        if (budget == -1)
        {
            if (support.DynamicAllowed) return -1;
            var middle = (min + max) / 2;
            return middle > 0 ? middle : support.ZeroAllowed ? 0 : min;
        }
        if (budget == 0) return support.ZeroAllowed ? 0 : Math.Max(min, 1);
        return Math.Clamp(budget, Math.Max(min, 1), max);
    }

    /// <summary>The supported level closest to <paramref name="level"/> on the none..xhigh scale; ties go to the lower one.</summary>
    internal static string Nearest(IReadOnlyList<string> supported, string level)
    {
        var wanted = IndexOf(level);
        if (wanted < 0) return supported[supported.Count - 1];
        var best = supported[0];
        var bestDistance = int.MaxValue;
        foreach (var candidate in supported)
        {
            var distance = Math.Abs(IndexOf(candidate) - wanted);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    private static int IndexOf(string level)
    {
        for (var i = 0; i < ThinkingLevels.Ordered.Count; i++)
            if (string.Equals(ThinkingLevels.Ordered[i], level, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private static void Camel(JsonObject config, string snake, string camel)
    {
        if (config[snake] is not { } value) return;
        config.Remove(snake);
        if (config[camel] is null) config[camel] = value;
    }
}
