using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Qwen;

/// <summary>
/// Qwen Code accounts: a device-code login at chat.qwen.ai gives OAuth tokens and a <c>resource_url</c>, the host of the
/// account's OpenAI-compatible API. Credential files have <c>"type": "qwen"</c> (CLIProxyAPI's format).
/// </summary>
public sealed class QwenPlugin : IProviderPlugin
{
    public string Id => "qwen";
    public IReadOnlyList<string> CredentialTypes { get; } = ["qwen"];
    public Dialect NativeDialect => Dialect.OpenAIChat;
    public IReadOnlyList<ModelInfo> Models => QwenModels.All;
    public IExecutor Executor { get; } = new QwenExecutor();
    public IAuthenticator? Authenticator { get; } = new QwenAuthenticator();
}

/// <summary>The models Qwen Code accounts serve (CLIProxyAPI's catalog).</summary>
internal static class QwenModels
{
    public static readonly IReadOnlyList<ModelInfo> All =
    [
        new("qwen3-coder-plus")
        {
            DisplayName = "Qwen3 Coder Plus", Description = "Advanced code generation and understanding model", OwnedBy = "qwen",
            Created = 1753228800, InputTokenLimit = 32768, OutputTokenLimit = 8192,
        },
        new("qwen3-coder-flash")
        {
            DisplayName = "Qwen3 Coder Flash", Description = "Fast code generation model", OwnedBy = "qwen",
            Created = 1753228800, InputTokenLimit = 8192, OutputTokenLimit = 2048,
        },
        new("vision-model")
        {
            DisplayName = "Qwen3 Vision Model", Description = "Vision model", OwnedBy = "qwen",
            Created = 1758672000, InputTokenLimit = 32768, OutputTokenLimit = 2048,
        },
    ];
}
