namespace PluginProxy.Host.Models;

/// <summary>Glob matching with <c>*</c> only: exact, <c>prefix*</c>, <c>*suffix</c>, <c>*sub*</c>, <c>a*b*c</c>.</summary>
internal static class ModelPattern
{
    public static bool Matches(string pattern, string value, StringComparison comparison = StringComparison.Ordinal)
    {
        if (!pattern.Contains('*')) return string.Equals(pattern, value, comparison);
        var parts = pattern.Split('*');
        if (!value.StartsWith(parts[0], comparison)) return false;
        var position = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            if (parts[i].Length == 0) continue;
            var found = value.IndexOf(parts[i], position, comparison);
            if (found < 0) return false;
            position = found + parts[i].Length;
        }
        var last = parts[^1];
        return value.Length - position >= last.Length && value.EndsWith(last, comparison);
    }

    public static bool MatchesAny(IEnumerable<string> patterns, string value, StringComparison comparison = StringComparison.Ordinal) =>
        patterns.Any(p => Matches(p, value, comparison));
}
