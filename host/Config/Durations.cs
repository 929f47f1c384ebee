using System.Globalization;
using System.Text.RegularExpressions;

namespace PluginProxy.Host.Config;

/// <summary>Go-style durations as CLIProxyAPI writes them (<c>1h</c>, <c>30m</c>, <c>1h30m</c>, <c>90s</c>, <c>500ms</c>), or plain seconds.</summary>
internal static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s)) return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds < 0 || double.IsNaN(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds / 2) return false;
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        var parts = Part().Matches(s);
        if (parts.Count == 0 || parts.Sum(m => m.Length) != s.Length) return false;
        var total = 0.0;
        foreach (Match m in parts)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => n * 3600,
                "m" => n * 60,
                "s" => n,
                "ms" => n / 1000,
                _ => 0,
            };
        }
        if (total > TimeSpan.MaxValue.TotalSeconds / 2) return false;
        value = TimeSpan.FromSeconds(total);
        return true;
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|h|m|s)")]
    private static partial Regex Part();
}
