using System.Text.Json;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Claude;

/// <summary>What one attempt needs to know about its credential: where to send, which token, and how to present it.</summary>
internal sealed record ClaudeAccount(string BaseUrl, string Token, bool IsOAuth, bool UseApiKeyHeader, CloakSettings Cloak)
{
    public static ClaudeAccount From(CredentialRecord credential, PluginSettings settings)
    {
        var baseUrl = (credential.BaseUrl ?? credential.GetString("base_url") ?? settings.GetString("api-url", ClaudeCodeIdentity.DefaultBaseUrl)).TrimEnd('/');
        var token = credential.ApiKey ?? credential.GetString("access_token") ?? credential.GetString("api_key")
            ?? throw new InvalidOperationException($"credential {credential.Label} has neither an api-key nor an access_token");
        // Subscription tokens (sk-ant-oat...) are OAuth whether they come from a login file or were pasted into claude-api-key.
        var isOAuth = credential.Source == CredentialSource.File && credential.ApiKey is null && credential.GetString("access_token") is not null
            || token.Contains("sk-ant-oat", StringComparison.Ordinal);
        var onAnthropic = Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri)
            && uri.Host.Equals(new Uri(ClaudeCodeIdentity.DefaultBaseUrl).Host, StringComparison.OrdinalIgnoreCase);
        // disable-claude-cloak-mode (routed here by the host): no cloaking unless the credential sets its own mode.
        return new ClaudeAccount(baseUrl, token, isOAuth, !isOAuth && onAnthropic, CloakSettings.From(credential, settings.GetBool("disable-cloak-mode", false)));
    }
}

internal enum CloakMode
{
    /// <summary>Cloak unless the client is Claude Code itself.</summary>
    Auto,
    Always,
    Never,
}

/// <summary>
/// How requests on a credential are made to look like Claude Code's: the <c>cloak</c> block of a <c>claude-api-key</c>
/// entry (carried in the credential's metadata), or <c>cloak_mode</c>/<c>cloak_strict_mode</c>/<c>cloak_sensitive_words</c>
/// in an auth file.
/// </summary>
internal sealed record CloakSettings(CloakMode Mode, bool Strict, IReadOnlyList<string> SensitiveWords)
{
    public static readonly CloakSettings Default = new(CloakMode.Auto, false, []);

    /// <param name="disabledByDefault">Cloaking is off unless the credential names a mode (<c>disable-claude-cloak-mode</c>).</param>
    public static CloakSettings From(CredentialRecord credential, bool disabledByDefault = false)
    {
        var fallback = disabledByDefault ? CloakMode.Never : CloakMode.Auto;
        var meta = credential.Metadata;
        if (meta.ValueKind != JsonValueKind.Object) return Default with { Mode = fallback };
        if (meta.TryGetProperty("cloak", out var cloak) && cloak.ValueKind == JsonValueKind.Object)
            return new CloakSettings(ParseMode(Text(cloak, "mode"), fallback), Bool(cloak, "strict-mode"), Words(cloak, "sensitive-words"));
        return new CloakSettings(ParseMode(credential.GetString("cloak_mode"), fallback), Bool(meta, "cloak_strict_mode"), Words(meta, "cloak_sensitive_words"));
    }

    public static CloakMode ParseMode(string? text, CloakMode fallback = CloakMode.Auto) => text?.Trim().ToLowerInvariant() switch
    {
        "always" or "true" => CloakMode.Always,
        "never" or "false" or "off" => CloakMode.Never,
        "auto" => CloakMode.Auto,
        _ => fallback,
    };

    /// <summary>Whether to cloak a request from a client with this user agent.</summary>
    public bool Applies(string? clientUserAgent) => Mode switch
    {
        CloakMode.Always => true,
        CloakMode.Never => false,
        _ => clientUserAgent?.StartsWith(ClaudeCodeIdentity.ClaudeCodeUserAgentPrefix, StringComparison.OrdinalIgnoreCase) != true,
    };

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement obj, string name) => obj.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.True
        || v.ValueKind == JsonValueKind.String && v.GetString()?.Trim().ToLowerInvariant() is "true" or "1" or "yes");

    // A list, or a comma-separated string (the auth-file attribute form).
    private static IReadOnlyList<string> Words(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v)) return [];
        IEnumerable<string?> raw = v.ValueKind switch
        {
            JsonValueKind.Array => v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()),
            JsonValueKind.String => (v.GetString() ?? "").Split(','),
            _ => [],
        };
        return raw.Select(w => w?.Trim() ?? "").Where(w => w.EnumerateRunes().Count() >= 2).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
