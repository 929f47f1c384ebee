using System.Text.Json;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>Reads a Gemini CLI credential file (CLIProxyAPI's shape: <c>token{access_token, refresh_token, expiry}</c>, <c>project_id</c>).</summary>
internal static class CodeAssistAccount
{
    public static string? AccessToken(CredentialRecord credential) => TokenField(credential, "access_token");

    public static string? RefreshToken(CredentialRecord credential) => TokenField(credential, "refresh_token");

    /// <summary>
    /// The Cloud project requests are billed to. A file of several projects (<c>"a,b"</c>, from <c>--project-id a,b</c> or
    /// <c>ALL</c>) is served with its first one: the host has no per-project accounts yet.
    /// </summary>
    public static string? Project(CredentialRecord credential) => Projects(credential).FirstOrDefault();

    public static IReadOnlyList<string> Projects(CredentialRecord credential) =>
        (credential.GetString("project_id") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? TokenField(CredentialRecord credential, string name)
    {
        var metadata = credential.Metadata;
        if (metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("token", out var token) && token.ValueKind == JsonValueKind.Object
            && token.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
            return text;
        return credential.GetString(name) is { Length: > 0 } top ? top : null;
    }
}
