using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.AIStudio;

/// <summary>The models an AI Studio relay session serves (CLIProxyAPI's static list), with the thinking controls known for them.</summary>
internal static class AIStudioCatalog
{
    private const long Released25 = 1750118400; // 2025-06-17
    private const long Released3 = 1763510400;  // 2025-11-19

    public static readonly IReadOnlyList<ModelInfo> Models =
    [
        Model("gemini-2.5-pro", "Gemini 2.5 Pro", Released25, new ThinkingSupport { MinBudget = 128, MaxBudget = 32768, ZeroAllowed = false, DynamicAllowed = true }),
        Model("gemini-2.5-flash", "Gemini 2.5 Flash", Released25, new ThinkingSupport { MinBudget = 0, MaxBudget = 24576, ZeroAllowed = true, DynamicAllowed = true }),
        Model("gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", Released25, new ThinkingSupport { MinBudget = 0, MaxBudget = 24576, ZeroAllowed = true, DynamicAllowed = true }),
        Model("gemini-3-pro-preview", "Gemini 3 Pro Preview", Released3, new ThinkingSupport { MinBudget = 128, MaxBudget = 32768, DynamicAllowed = true, Levels = ["low", "high"] }),
        Model("gemini-3-flash-preview", "Gemini 3 Flash Preview", Released3, new ThinkingSupport { DynamicAllowed = true, Levels = ["minimal", "low", "medium", "high"] }),
        Model("gemini-pro-latest", "Gemini Pro Latest", Released3, null),
        Model("gemini-flash-latest", "Gemini Flash Latest", Released3, null),
        Model("gemini-flash-lite-latest", "Gemini Flash Lite Latest", Released3, null),
        Model("gemini-2.5-flash-image", "Gemini 2.5 Flash Image", Released25, ThinkingSupport.None),
    ];

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
