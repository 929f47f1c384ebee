using System.Globalization;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// Token refresh (and login, see <see cref="GeminiCliLogin"/>) for Gemini CLI credentials. Unlike CLIProxyAPI, which
/// refreshes lazily per request and never writes the result back, refreshed tokens are persisted in the same file
/// shape, a few minutes before Google's one-hour tokens expire.
/// </summary>
internal sealed class GeminiCliAuthenticator : IAuthenticator
{
    public TimeSpan? RefreshLead => TimeSpan.FromMinutes(5);

    public Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken) =>
        GeminiCliLogin.RunAsync(context, cancellationToken);

    public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        var credential = context.Credential;
        var refreshToken = CodeAssistAccount.RefreshToken(credential)
            ?? throw new LoginRequiredException($"{credential.Label} has no refresh token; run login gemini again");
        var client = TokenClient(context.Settings, context.Clock);
        var tokens = await client.RefreshAsync(context.Http, refreshToken, cancellationToken: cancellationToken).ConfigureAwait(false);
        var file = JsonNode.Parse(credential.Metadata.GetRawText()) as JsonObject ?? [];
        ApplyTokens(file, tokens, refreshToken);
        return file;
    }

    internal static OAuthTokenClient TokenClient(PluginSettings settings, TimeProvider clock) =>
        new(GeminiSettings.Get(settings, "token-url", GeminiSettings.TokenUrl), GeminiCliOAuth.ClientId, TokenBodyFormat.Form)
        {
            ClientSecret = GeminiCliOAuth.ClientSecret,
            Clock = clock,
        };

    /// <summary>
    /// Writes the Go oauth2 token shape CLIProxyAPI and the Gemini CLI read (<c>token{access_token, token_type,
    /// refresh_token, expiry}</c>); top-level copies are updated when the file has them.
    /// </summary>
    internal static void ApplyTokens(JsonObject file, TokenResponse tokens, string? previousRefreshToken)
    {
        var token = file["token"] as JsonObject ?? [];
        file["token"] = token;
        token["access_token"] = tokens.AccessToken;
        token["token_type"] = tokens.TokenType ?? "Bearer";
        var refresh = tokens.RefreshToken ?? previousRefreshToken;
        if (refresh is not null) token["refresh_token"] = refresh;
        if (tokens.ExpiresAt is { } expiresAt)
        {
            var expiry = expiresAt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture);
            token["expiry"] = expiry;
            token["expires_in"] = (long)tokens.ExpiresIn!.Value.TotalSeconds;
            if (file.ContainsKey("expiry")) file["expiry"] = expiry;
            // The Gemini CLI's own files carry expiry_date (ms), which the host reads first: keep it current too.
            if (file.ContainsKey("expiry_date")) file["expiry_date"] = expiresAt.ToUnixTimeMilliseconds();
        }
        if (file.ContainsKey("access_token")) file["access_token"] = tokens.AccessToken;
        if (file.ContainsKey("refresh_token") && refresh is not null) file["refresh_token"] = refresh;
    }
}
