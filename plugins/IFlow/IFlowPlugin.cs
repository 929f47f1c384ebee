using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// iFlow accounts: an OAuth login (or a browser cookie from platform.iflow.cn) yields an API key for iFlow's
/// OpenAI-compatible API. Credential files have <c>"type": "iflow"</c> (CLIProxyAPI's format).
/// </summary>
public sealed class IFlowPlugin : IProviderPlugin
{
    public string Id => "iflow";
    public IReadOnlyList<string> CredentialTypes { get; } = ["iflow"];
    public Dialect NativeDialect => Dialect.OpenAIChat;
    public IReadOnlyList<ModelInfo> Models => IFlowModels.All;
    public IExecutor Executor { get; } = new IFlowExecutor();
    public IAuthenticator? Authenticator { get; } = new IFlowAuthenticator();
}

/// <summary>The models iFlow serves (CLIProxyAPI's catalog); those with thinking take the executor's thinking switch.</summary>
internal static class IFlowModels
{
    private static readonly ThinkingSupport Switch = new() { ZeroAllowed = true, Levels = ["none", "low", "medium", "high"] };

    public static readonly IReadOnlyList<ModelInfo> All =
    [
        Model("tstars2.0", "TStars-2.0", 1746489600),
        Model("qwen3-coder-plus", "Qwen3-Coder-Plus", 1753228800),
        Model("qwen3-max", "Qwen3-Max", 1758672000),
        Model("qwen3-vl-plus", "Qwen3-VL-Plus", 1758672000),
        Model("qwen3-max-preview", "Qwen3-Max-Preview", 1757030400, thinking: true),
        Model("kimi-k2-0905", "Kimi-K2-Instruct-0905", 1757030400),
        Model("glm-4.6", "GLM-4.6", 1759190400, thinking: true),
        Model("glm-4.7", "GLM-4.7", 1766448000, thinking: true),
        Model("kimi-k2", "Kimi-K2", 1752192000),
        Model("kimi-k2-thinking", "Kimi-K2-Thinking", 1762387200),
        Model("deepseek-v3.2-chat", "DeepSeek-V3.2-Chat", 1764576000),
        Model("deepseek-v3.2-reasoner", "DeepSeek-V3.2-Reasoner", 1764576000),
        Model("deepseek-v3.2", "DeepSeek-V3.2-Exp", 1759104000, thinking: true),
        Model("deepseek-v3.1", "DeepSeek-V3.1-Terminus", 1756339200, thinking: true),
        Model("deepseek-r1", "DeepSeek-R1", 1737331200),
        Model("deepseek-v3", "DeepSeek-V3-671B", 1734307200),
        Model("qwen3-32b", "Qwen3-32B", 1747094400),
        Model("qwen3-235b-a22b-thinking-2507", "Qwen3-235B-A22B-Thinking", 1753401600),
        Model("qwen3-235b-a22b-instruct", "Qwen3-235B-A22B-Instruct", 1753401600),
        Model("qwen3-235b", "Qwen3-235B-A22B", 1753401600),
        Model("minimax-m2", "MiniMax-M2", 1758672000, thinking: true),
        Model("minimax-m2.1", "MiniMax-M2.1", 1766448000, thinking: true),
        Model("iflow-rome-30ba3b", "iFlow-ROME", 1736899200),
        Model("kimi-k2.5", "Kimi-K2.5", 1769443200, thinking: true),
    ];

    private static ModelInfo Model(string id, string name, long created, bool thinking = false) =>
        new(id) { DisplayName = name, Description = name, OwnedBy = "iflow", Created = created, Thinking = thinking ? Switch : null };
}
