using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.Codex.Auth;
using PluginProxy.Plugins.Codex.Execution;
using PluginProxy.Plugins.Codex.Models;

namespace PluginProxy.Plugins.Codex;

/// <summary>
/// OpenAI Codex: ChatGPT accounts logged in with <c>login codex</c> (auth files of type <c>codex</c>) and
/// <c>codex-api-key</c> entries of config.yaml. The upstream is the Codex Responses backend, which only streams.
/// </summary>
public sealed class CodexPlugin : IProviderPlugin
{
    public string Id => "codex";
    public IReadOnlyList<string> CredentialTypes { get; } = ["codex"];
    public Dialect NativeDialect => Dialect.OpenAIResponses;
    public IReadOnlyList<ModelInfo> Models => CodexModels.All;
    public IExecutor Executor { get; } = new CodexExecutor();
    public IAuthenticator? Authenticator { get; } = new CodexAuthenticator();
}
