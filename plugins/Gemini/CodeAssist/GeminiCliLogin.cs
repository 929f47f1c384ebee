using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>The interactive <c>login gemini</c> flow.</summary>
internal sealed class GeminiCliLogin(LoginContext context)
{
    public Task<LoginResult> RunAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("login gemini is not available yet");
}
