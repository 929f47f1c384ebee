using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Codex;

/// <summary>The <c>providers.codex</c> block of config.yaml: every URL the plugin calls, with the real one as default.</summary>
internal static class CodexSettings
{
    public const string DefaultApiUrl = "https://chatgpt.com/backend-api/codex";
    public const string DefaultAuthUrl = "https://auth.openai.com/oauth/authorize";
    public const string DefaultTokenUrl = "https://auth.openai.com/oauth/token";
    /// <summary>The Codex CLI's public OAuth client (it has no secret).</summary>
    public const string DefaultClientId = "app_EMoamEEZ73f0CkXaXp7hrann";

    public static string ApiUrl(PluginSettings settings) => settings.GetString("api-url", DefaultApiUrl);
    public static string AuthUrl(PluginSettings settings) => settings.GetString("auth-url", DefaultAuthUrl);
    public static string TokenUrl(PluginSettings settings) => settings.GetString("token-url", DefaultTokenUrl);
    public static string ClientId(PluginSettings settings) => settings.GetString("client-id", DefaultClientId);
}
