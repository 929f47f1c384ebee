using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Claude;

/// <summary>
/// Anthropic's Claude: claude.ai subscription accounts (auth files of type <c>claude</c> from <c>login claude</c>) and
/// API keys (<c>claude-api-key</c> in config.yaml). Speaks Anthropic Messages natively.
/// </summary>
public sealed class ClaudePlugin : IProviderPlugin
{
    public string Id => "claude";
    public IReadOnlyList<string> CredentialTypes { get; } = ["claude"];
    public Dialect NativeDialect => Dialect.Anthropic;
    public IReadOnlyList<ModelInfo> Models => ClaudeModels.All;
    public IExecutor Executor { get; } = new ClaudeExecutor();
    public IAuthenticator? Authenticator { get; } = new ClaudeAuthenticator();
}

internal static class ClaudeModels
{
    private static readonly ThinkingSupport Budget = new() { MinBudget = 1024, MaxBudget = 128000, ZeroAllowed = true, DynamicAllowed = false };

    private static ModelInfo Model(string id, string name, long created, int output, bool thinking = true) => new(id)
    {
        DisplayName = name,
        OwnedBy = "anthropic",
        Created = created,
        InputTokenLimit = 200000,
        OutputTokenLimit = output,
        Thinking = thinking ? Budget : ThinkingSupport.None,
    };

    public static readonly IReadOnlyList<ModelInfo> All =
    [
        Model("claude-opus-4-6", "Claude Opus 4.6", 1770249600, 128000),
        Model("claude-opus-4-5-20251101", "Claude Opus 4.5", 1761955200, 64000),
        Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", 1759276800, 64000),
        Model("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", 1759104000, 64000),
        Model("claude-opus-4-1-20250805", "Claude Opus 4.1", 1754352000, 32000),
        Model("claude-opus-4-20250514", "Claude Opus 4", 1747180800, 32000),
        Model("claude-sonnet-4-20250514", "Claude Sonnet 4", 1747180800, 64000),
        Model("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", 1739923200, 64000),
        Model("claude-3-5-haiku-20241022", "Claude Haiku 3.5", 1729555200, 8192, thinking: false),
    ];
}
