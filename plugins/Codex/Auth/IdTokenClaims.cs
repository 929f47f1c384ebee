using System.Text.Json;

namespace PluginProxy.Plugins.Codex.Auth;

/// <summary>
/// What the ID token says about the account: email, ChatGPT account id and plan (under the
/// <c>https://api.openai.com/auth</c> claim). The signature is not checked: the token came straight from the token
/// endpoint over TLS, and only names the file and the account header.
/// </summary>
internal sealed record IdTokenClaims(string? Email, string? AccountId, string? Plan)
{
    private const string AuthClaim = "https://api.openai.com/auth";
    private const string ProfileClaim = "https://api.openai.com/profile";

    /// <summary>The claims, or null when the token is not a readable JWT.</summary>
    public static IdTokenClaims? Parse(string? jwt)
    {
        var parts = jwt?.Split('.');
        if (parts is not { Length: >= 2 }) return null;
        try
        {
            using var doc = JsonDocument.Parse(Base64UrlDecode(parts[1]));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var email = Str(root, "email");
            if (email is null && root.TryGetProperty(ProfileClaim, out var profile) && profile.ValueKind == JsonValueKind.Object) email = Str(profile, "email");
            string? account = null, plan = null;
            if (root.TryGetProperty(AuthClaim, out var auth) && auth.ValueKind == JsonValueKind.Object)
            {
                account = Str(auth, "chatgpt_account_id");
                plan = Str(auth, "chatgpt_plan_type");
            }
            return new IdTokenClaims(email, account, plan);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(s);
    }

    public override string ToString() => $"IdTokenClaims(email {(Email is null ? "no" : "yes")}, account {(AccountId is null ? "no" : "yes")}, plan {Plan ?? "?"})";
}
