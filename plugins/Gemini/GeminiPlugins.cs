using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.Gemini.CodeAssist;
using PluginProxy.Plugins.Gemini.Upstream;
using PluginProxy.Plugins.Gemini.Vertex;

namespace PluginProxy.Plugins.Gemini;

/// <summary>
/// <c>gemini-api-key</c> entries of config.yaml: the Generative Language API
/// (<c>providers.gemini.api-url</c>, default https://generativelanguage.googleapis.com) with <c>x-goog-api-key</c>.
/// </summary>
public sealed class GeminiApiKeyPlugin : IProviderPlugin
{
    public string Id => "gemini";
    public IReadOnlyList<string> CredentialTypes { get; } = ["gemini"];
    public Dialect NativeDialect => Dialect.Gemini;
    public IReadOnlyList<ModelInfo> Models => GeminiCatalog.GeminiApi;
    public IExecutor Executor { get; } = new GeminiApiExecutor(GeminiCatalog.GeminiApi);
    public IAuthenticator? Authenticator => null;
}

/// <summary>
/// Gemini CLI logins (auth files of <c>"type": "gemini"</c>): Google OAuth to the Code Assist API
/// (<c>providers.gemini.code-assist-url</c>, default https://cloudcode-pa.googleapis.com). <c>login gemini</c> creates them.
/// </summary>
public sealed class GeminiCliPlugin : IProviderPlugin
{
    public string Id => "gemini-cli";
    public IReadOnlyList<string> CredentialTypes { get; } = ["gemini-cli"];
    public Dialect NativeDialect => Dialect.Gemini;
    public IReadOnlyList<ModelInfo> Models => GeminiCatalog.GeminiCli;
    public IExecutor Executor { get; } = new CodeAssistExecutor(GeminiCatalog.GeminiCli);
    public IAuthenticator? Authenticator { get; } = new GeminiCliAuthenticator();
}

/// <summary>
/// Vertex AI: auth files of <c>"type": "vertex"</c> holding a service account (<c>login vertex --key-file</c>, alias
/// <c>import vertex</c>) at the regional aiplatform endpoint (<c>providers.vertex.api-url</c>, a template with
/// <c>{location}</c>), and <c>vertex-api-key</c> entries at their <c>base-url</c>.
/// </summary>
public sealed class VertexPlugin : IProviderPlugin
{
    public string Id => "vertex";
    public IReadOnlyList<string> CredentialTypes { get; } = ["vertex"];
    public Dialect NativeDialect => Dialect.Gemini;
    public IReadOnlyList<ModelInfo> Models => GeminiCatalog.Vertex;
    public IExecutor Executor { get; } = new VertexExecutor(GeminiCatalog.Vertex);
    public IAuthenticator? Authenticator { get; } = new VertexAuthenticator();
}
