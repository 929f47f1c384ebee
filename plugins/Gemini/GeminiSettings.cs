using System.Text.Json;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini;

/// <summary>
/// The settings of the Gemini plugins. Each plugin reads its own <c>providers.&lt;id&gt;</c> block first and then the
/// shared <c>providers.gemini</c> block, so one block configures every Google URL (as the docs describe) while a
/// plugin-specific block can still override it.
/// </summary>
internal static class GeminiSettings
{
    public const string ApiUrl = "https://generativelanguage.googleapis.com";
    public const string CodeAssistUrl = "https://cloudcode-pa.googleapis.com";
    public const string AuthUrl = "https://accounts.google.com/o/oauth2/auth";
    public const string TokenUrl = "https://oauth2.googleapis.com/token";
    public const string UserInfoUrl = "https://www.googleapis.com/oauth2/v1/userinfo?alt=json";
    public const string ProjectsUrl = "https://cloudresourcemanager.googleapis.com/v1/projects";
    public const string ServiceUsageUrl = "https://serviceusage.googleapis.com";

    public static string Get(PluginSettings settings, string key, string defaultValue) =>
        settings.GetString(key) ?? Shared(settings, key) ?? defaultValue;

    public static bool GetBool(PluginSettings settings, string key, bool defaultValue) =>
        Get(settings, key, "")?.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => defaultValue,
        };

    private static string? Shared(PluginSettings settings, string key)
    {
        var providers = settings.Section("providers");
        if (providers.ValueKind != JsonValueKind.Object || !providers.TryGetProperty("gemini", out var gemini) || gemini.ValueKind != JsonValueKind.Object)
            return null;
        if (!gemini.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String) return null;
        var text = value.GetString();
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }
}
