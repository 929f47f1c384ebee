using System.Globalization;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Claude;

/// <summary>
/// The Claude (claude.ai subscription) login: authorization code with PKCE against Anthropic's OAuth server, and refresh
/// four hours before the access token expires. URLs and the client id come from <c>providers.claude</c> settings.
/// </summary>
internal sealed class ClaudeAuthenticator : IAuthenticator
{
    public const string DefaultAuthUrl = "https://claude.ai/oauth/authorize";
    public const string DefaultTokenUrl = "https://platform.claude.com/v1/oauth/token";
    public const string DefaultClientId = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
    public const string Scope = "org:create_api_key user:profile user:inference";
    public const int DefaultCallbackPort = 54545;

    /// <summary>The only redirect URI registered for the client: fixed, even when <c>--callback-port</c> moves the listener (for an SSH tunnel).</summary>
    public const string RedirectUri = "http://localhost:54545/callback";

    public TimeSpan? RefreshLead => TimeSpan.FromHours(4);

    public async Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var clientId = settings.GetString("client-id", DefaultClientId);
        var request = new AuthorizationRequest
        {
            AuthorizeUrl = settings.GetString("auth-url", DefaultAuthUrl),
            ClientId = clientId,
            Scope = Scope,
            DisplayName = "Claude",
            CallbackPath = "/callback",
            CallbackPort = DefaultCallbackPort,
            RedirectUri = RedirectUri,
            VerifierBytes = 96,
            // Anthropic's authorize page shows the code to copy (code#state) when asked to.
            ExtraParameters = [new("code", "true")],
        };
        var code = await AuthorizationCodeFlow.RunAsync(context, request, cancellationToken).ConfigureAwait(false);
        // A code pasted from Anthropic's page may still carry "#state".
        var (plainCode, state) = code.Code.IndexOf('#') is var hash and > 0 ? (code.Code[..hash], code.Code[(hash + 1)..]) : (code.Code, code.State);
        var client = TokenClient(settings, context.Clock);
        var tokens = await client.ExchangeCodeAsync(context.Http, code with { Code = plainCode }, [new("state", state)], cancellationToken).ConfigureAwait(false);
        var email = Email(tokens.Raw) ?? throw new OAuthException("the token answer has no account email; cannot name the credential");
        var content = new JsonObject
        {
            ["id_token"] = "",
            ["access_token"] = tokens.AccessToken,
            ["refresh_token"] = tokens.RefreshToken ?? "",
            ["last_refresh"] = Rfc3339(context.Clock.GetUtcNow()),
            ["email"] = email,
            ["type"] = "claude",
            ["expired"] = tokens.ExpiresAt is { } at ? Rfc3339(at) : "",
        };
        await context.Output.WriteLineAsync($"Logged in to Claude as {email}.").ConfigureAwait(false);
        return new LoginResult($"claude-{email}.json", content, email);
    }

    public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        var credential = context.Credential;
        var refreshToken = credential.GetString("refresh_token");
        if (string.IsNullOrEmpty(refreshToken)) throw new LoginRequiredException($"{credential.Label} has no refresh token; run login claude");
        var tokens = await TokenClient(context.Settings, context.Clock).RefreshAsync(context.Http, refreshToken, null, cancellationToken).ConfigureAwait(false);
        var result = JsonNode.Parse(credential.Metadata.GetRawText()) as JsonObject ?? [];
        result["access_token"] = tokens.AccessToken;
        if (tokens.RefreshToken is { } rotated) result["refresh_token"] = rotated;
        if (Email(tokens.Raw) is { } email) result["email"] = email;
        if (tokens.ExpiresAt is { } at) result["expired"] = Rfc3339(at);
        result["type"] = "claude";
        result["last_refresh"] = Rfc3339(context.Clock.GetUtcNow());
        return result;
    }

    private static OAuthTokenClient TokenClient(PluginSettings settings, TimeProvider clock) =>
        new(settings.GetString("token-url", DefaultTokenUrl), settings.GetString("client-id", DefaultClientId), TokenBodyFormat.Json) { Clock = clock };

    private static string? Email(JsonObject raw) =>
        raw["account"] is JsonObject account && account["email_address"] is JsonValue v && v.TryGetValue<string>(out var email) && email.Length > 0 ? email : null;

    private static string Rfc3339(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
