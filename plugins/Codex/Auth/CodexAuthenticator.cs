using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Codex.Auth;

/// <summary>
/// <c>login codex</c>: the ChatGPT browser login of the Codex CLI (authorization code with PKCE, callback on
/// <c>localhost:1455/auth/callback</c>), and the refresh of its tokens five days before they expire.
/// </summary>
internal sealed partial class CodexAuthenticator : IAuthenticator
{
    /// <summary>The one redirect URI OpenAI registered for the Codex client; it stays when <c>--callback-port</c> moves the listener (for an SSH tunnel).</summary>
    public const string RedirectUri = "http://localhost:1455/auth/callback";
    public const int CallbackPort = 1455;
    private const string Scope = "openid email profile offline_access";
    private const string RefreshScope = "openid profile email";

    public TimeSpan? RefreshLead => TimeSpan.FromDays(5);

    public async Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var request = new AuthorizationRequest
        {
            AuthorizeUrl = CodexSettings.AuthUrl(settings),
            ClientId = CodexSettings.ClientId(settings),
            Scope = Scope,
            DisplayName = "Codex",
            CallbackPath = "/auth/callback",
            CallbackPort = CallbackPort,
            RedirectUri = RedirectUri,
            VerifierBytes = 96,
            ExtraParameters =
            [
                new("prompt", "login"),
                new("id_token_add_organizations", "true"),
                new("codex_cli_simplified_flow", "true"),
            ],
        };
        var code = await AuthorizationCodeFlow.RunAsync(context, request, cancellationToken).ConfigureAwait(false);
        var tokens = await TokenClient(settings, context.Clock).ExchangeCodeAsync(context.Http, code, cancellationToken: cancellationToken).ConfigureAwait(false);
        var claims = IdTokenClaims.Parse(tokens.IdToken)
            ?? throw new OAuthException("the token endpoint sent no readable id_token; cannot tell which account logged in");
        if (claims.Email is null) throw new OAuthException("the ID token names no email address; cannot name the credential file");
        var content = new JsonObject
        {
            ["type"] = "codex",
            ["id_token"] = tokens.IdToken,
            ["access_token"] = tokens.AccessToken,
            ["refresh_token"] = tokens.RefreshToken,
            ["account_id"] = claims.AccountId,
            ["email"] = claims.Email,
            ["expired"] = Stamp(tokens.ExpiresAt),
            ["last_refresh"] = Stamp(context.Clock.GetUtcNow()),
        };
        await context.Output.WriteLineAsync($"Logged in to Codex as {claims.Email}{(claims.Plan is null ? "" : $" ({claims.Plan})")}.").ConfigureAwait(false);
        return new LoginResult(FileName(claims), content, claims.Email);
    }

    public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        var credential = context.Credential;
        var refreshToken = credential.GetString("refresh_token");
        if (string.IsNullOrEmpty(refreshToken)) throw new LoginRequiredException($"{credential.Label} has no refresh_token; run login --codex again");
        var tokens = await TokenClient(context.Settings, context.Clock)
            .RefreshAsync(context.Http, refreshToken, [new("scope", RefreshScope)], cancellationToken).ConfigureAwait(false);
        var json = JsonNode.Parse(credential.Metadata.ValueKind == System.Text.Json.JsonValueKind.Object ? credential.Metadata.GetRawText() : "{}") as JsonObject ?? [];
        json["type"] = "codex";
        json["access_token"] = tokens.AccessToken;
        if (tokens.RefreshToken is not null) json["refresh_token"] = tokens.RefreshToken;
        if (tokens.IdToken is not null)
        {
            json["id_token"] = tokens.IdToken;
            var claims = IdTokenClaims.Parse(tokens.IdToken);
            if (claims?.AccountId is { } account) json["account_id"] = account;
            if (claims?.Email is { } email) json["email"] = email;
        }
        if (tokens.ExpiresAt is not null) json["expired"] = Stamp(tokens.ExpiresAt); // keep the old expiry rather than lose it
        json["last_refresh"] = Stamp(context.Clock.GetUtcNow());
        return json;
    }

    private static OAuthTokenClient TokenClient(PluginSettings settings, TimeProvider clock) =>
        new(CodexSettings.TokenUrl(settings), CodexSettings.ClientId(settings), TokenBodyFormat.Form) { Clock = clock };

    private static string? Stamp(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>codex-&lt;email&gt;[-&lt;plan&gt;].json</c>; team accounts also carry a short hash of the workspace, as one email may be in several.</summary>
    internal static string FileName(IdTokenClaims claims)
    {
        var email = Safe(claims.Email!);
        var plan = claims.Plan is { Length: > 0 } p ? NonAlnum().Replace(p.ToLowerInvariant(), "-").Trim('-') : "";
        if (plan.Length == 0) return $"codex-{email}.json";
        if (plan == "team" && claims.AccountId is { Length: > 0 } account)
            return $"codex-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)))[..8]}-{email}-team.json";
        return $"codex-{email}-{plan}.json";
    }

    // An email is a file name once path separators are gone; nothing else in it can escape auth-dir.
    private static string Safe(string email) => email.Replace('/', '_').Replace('\\', '_').Replace("..", "_");

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlnum();
}
