using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Codex.Models;

/// <summary>The models the Codex backend serves, with the reasoning efforts each accepts (lowest first).</summary>
internal static class CodexModels
{
    private static readonly string[] Gpt5 = ["minimal", "low", "medium", "high"];
    private static readonly string[] Gpt51 = ["none", "low", "medium", "high"];
    private static readonly string[] Codex = ["low", "medium", "high"];
    private static readonly string[] CodexX = ["low", "medium", "high", "xhigh"];
    private static readonly string[] Gpt52 = ["none", "low", "medium", "high", "xhigh"];

    public static readonly IReadOnlyList<ModelInfo> All =
    [
        Model("gpt-5", 1754524800, Gpt5),
        Model("gpt-5-codex", 1757894400, Codex),
        Model("gpt-5-codex-mini", 1762473600, Codex),
        Model("gpt-5.1", 1762905600, Gpt51),
        Model("gpt-5.1-codex", 1762905600, Codex),
        Model("gpt-5.1-codex-mini", 1762905600, Codex),
        Model("gpt-5.1-codex-max", 1763424000, CodexX),
        Model("gpt-5.2", 1765440000, Gpt52),
        Model("gpt-5.2-codex", 1765440000, CodexX),
        Model("gpt-5.3-codex", 1770249600, CodexX),
    ];

    /// <summary>The efforts a model accepts; null for a model the catalog does not know (sent unvalidated).</summary>
    public static IReadOnlyList<string>? LevelsOf(string model) =>
        All.FirstOrDefault(m => string.Equals(m.Id, model, StringComparison.OrdinalIgnoreCase))?.Thinking?.Levels;

    private static ModelInfo Model(string id, long created, string[] levels) => new(id)
    {
        OwnedBy = "openai",
        Created = created,
        InputTokenLimit = 400_000,
        OutputTokenLimit = 128_000,
        Thinking = new ThinkingSupport { Levels = levels },
    };
}
