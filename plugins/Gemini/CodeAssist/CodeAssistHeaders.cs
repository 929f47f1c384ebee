using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>The identity the Gemini CLI's Google client sends to Code Assist (CLIProxyAPI sends the same); each is a setting.</summary>
internal static class CodeAssistHeaders
{
    public const string UserAgent = "google-api-nodejs-client/9.15.1";
    public const string ApiClient = "gl-node/22.17.0";
    public const string ClientMetadata = "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI";

    public static void Apply(HttpRequestMessage request, PluginSettings settings)
    {
        request.Headers.TryAddWithoutValidation("User-Agent", GeminiSettings.Get(settings, "user-agent", UserAgent));
        request.Headers.TryAddWithoutValidation("X-Goog-Api-Client", GeminiSettings.Get(settings, "api-client", ApiClient));
        request.Headers.TryAddWithoutValidation("Client-Metadata", GeminiSettings.Get(settings, "client-metadata", ClientMetadata));
    }
}
