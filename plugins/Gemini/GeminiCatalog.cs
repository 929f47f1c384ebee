using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini;

/// <summary>
/// The built-in model lists (CLIProxyAPI's, February 2026) with each model's thinking controls, which the executors
/// use to clamp what a client asked for into what the model accepts.
/// </summary>
internal static class GeminiCatalog
{
    private const long Released25 = 1750118400; // 2025-06-17
    private const long Released3 = 1763510400;  // 2025-11-19

    public static readonly IReadOnlyList<ModelInfo> GeminiCli =
    [
        Model("gemini-2.5-pro", "Gemini 2.5 Pro", Released25, new ThinkingSupport { MinBudget = 128, MaxBudget = 32768, ZeroAllowed = false, DynamicAllowed = true }),
        Model("gemini-2.5-flash", "Gemini 2.5 Flash", Released25, new ThinkingSupport { MinBudget = 0, MaxBudget = 24576, ZeroAllowed = true, DynamicAllowed = true }),
        Model("gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", Released25, new ThinkingSupport { MinBudget = 0, MaxBudget = 24576, ZeroAllowed = true, DynamicAllowed = true }),
        Model("gemini-3-pro-preview", "Gemini 3 Pro Preview", Released3, new ThinkingSupport { MinBudget = 128, MaxBudget = 32768, DynamicAllowed = true, Levels = ["low", "high"] }),
        Model("gemini-3-flash-preview", "Gemini 3 Flash Preview", Released3, new ThinkingSupport { DynamicAllowed = true, Levels = ["minimal", "low", "medium", "high"] }),
    ];

    public static readonly IReadOnlyList<ModelInfo> GeminiApi =
    [
        .. GeminiCli,
        Model("gemini-3-pro-image-preview", "Gemini 3 Pro Image Preview", Released3, null),
    ];

    public static readonly IReadOnlyList<ModelInfo> Vertex = GeminiApi;

    /// <summary>The catalog entry's thinking controls for an upstream model name; null when the model is unknown.</summary>
    public static ThinkingSupport? ThinkingOf(IReadOnlyList<ModelInfo> catalog, string model)
    {
        foreach (var info in catalog)
            if (string.Equals(info.Id, model, StringComparison.OrdinalIgnoreCase)) return info.Thinking;
        return null;
    }

    private static ModelInfo Model(string id, string name, long created, ThinkingSupport? thinking) => new(id)
    {
        DisplayName = name,
        OwnedBy = "google",
        Created = created,
        InputTokenLimit = 1048576,
        OutputTokenLimit = 65536,
        Thinking = thinking,
    };
}
