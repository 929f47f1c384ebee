namespace PluginProxy.Abstractions.Canonical;

/// <summary>Conversion between reasoning effort levels and token budgets (the table CLIProxyAPI uses).</summary>
public static class ThinkingLevels
{
    public static readonly IReadOnlyList<string> Ordered = ["none", "minimal", "low", "medium", "high", "xhigh"];

    /// <summary>Budget for a level; null for an unknown level. <c>auto</c> is -1.</summary>
    public static int? BudgetFor(string? level) => level?.Trim().ToLowerInvariant() switch
    {
        "none" => 0,
        "auto" => -1,
        "minimal" => 512,
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        "xhigh" => 32768,
        _ => null,
    };

    /// <summary>Level for a budget; null for budgets below -1.</summary>
    public static string? LevelFor(int budget) => budget switch
    {
        -1 => "auto",
        0 => "none",
        < -1 => null,
        <= 512 => "minimal",
        <= 1024 => "low",
        <= 8192 => "medium",
        <= 24576 => "high",
        _ => "xhigh",
    };
}
