using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// The interactive <c>login gemini</c> flow: not built yet (see the Gemini section of README.md). Until then the command says so
/// instead of writing a half-made credential.
/// </summary>
internal static class GeminiCliLogin
{
    public static Task<LoginResult> RunAsync(LoginContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException("login gemini is not available yet; log in with CLIProxyAPI or the Gemini CLI and copy the file into auth-dir");
}
