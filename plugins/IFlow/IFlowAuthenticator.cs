using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// <c>login iflow</c>: iFlow's authorization-code login (callback on port 11451, the redirect URI in a parameter named
/// <c>redirect</c>), then the user-info call that yields the API key. <c>login iflow --cookie</c>: a platform.iflow.cn
/// browser cookie, with which the account's API key is read and regenerated. Refresh runs 24 h before expiry: by refresh
/// token (and user info, since the key may change), or, for cookie accounts, by regenerating the key once it expires
/// within 48 h.
/// </summary>
internal sealed class IFlowAuthenticator : IAuthenticator
{
    public const string DefaultAuthUrl = "https://iflow.cn/oauth";
    public const string DefaultTokenUrl = "https://iflow.cn/oauth/token";
    public const string DefaultUserInfoUrl = "https://iflow.cn/api/oauth/getUserInfo";
    public const string DefaultClientId = "10009311001";
    // iFlow's public CLI client: the secret ships in iFlow's own CLI, so it is no secret of the user's.
    public const string DefaultClientSecret = "4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW";
    public const int DefaultCallbackPort = 11451;
    public static readonly TimeSpan CookieRegenerateWithin = TimeSpan.FromHours(48);

    public TimeSpan? RefreshLead => TimeSpan.FromHours(24);

    public Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken) =>
        context.Options.ContainsKey("cookie") ? CookieLoginAsync(context, cancellationToken) : OAuthLoginAsync(context, cancellationToken);

    private static async Task<LoginResult> OAuthLoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var clientId = settings.GetString("client-id", DefaultClientId);
        var code = await AuthorizationCodeFlow.RunAsync(context, new AuthorizationRequest
        {
            AuthorizeUrl = settings.GetString("auth-url", DefaultAuthUrl),
            ClientId = clientId,
            DisplayName = "iFlow",
            CallbackPath = "/oauth2callback",
            CallbackPort = DefaultCallbackPort,
            RedirectParameterName = "redirect",
            ResponseType = null,
            UsePkce = false,
            ExtraParameters = [new("loginMethod", "phone"), new("type", "phone")],
        }, cancellationToken).ConfigureAwait(false);

        var client = TokenClient(settings, context.Clock);
        var tokens = await client.ExchangeCodeAsync(context.Http, code, SecretInBody(client), cancellationToken).ConfigureAwait(false);
        var user = await UserInfoAsync(context.Http, settings, tokens.AccessToken, cancellationToken).ConfigureAwait(false);
        var now = context.Clock.GetUtcNow();
        var file = new JsonObject
        {
            ["type"] = "iflow",
            ["email"] = user.Account,
            ["api_key"] = user.ApiKey,
            ["access_token"] = tokens.AccessToken,
            ["refresh_token"] = tokens.RefreshToken ?? "",
            ["token_type"] = tokens.TokenType ?? "",
            ["scope"] = tokens.Scope ?? "",
            ["expired"] = Rfc3339(tokens.ExpiresAt),
            ["last_refresh"] = Rfc3339(now),
            ["cookie"] = "",
        };
        await context.Output.WriteLineAsync($"iFlow login succeeded for {user.Account}.").ConfigureAwait(false);
        return new LoginResult($"iflow-{FileSafe(user.Account)}-{now.ToUnixTimeSeconds()}.json", file, user.Account);
    }

    private static async Task<LoginResult> CookieLoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var given = context.Options["cookie"];
        string? raw = given is { Length: > 0 } && given != "true" ? given : null;
        if (raw is null && context.ReadLine is { } readLine)
        {
            await context.Output.WriteLineAsync("Paste the cookie of a logged-in platform.iflow.cn browser session (it contains BXAuth=) and press Enter:")
                .ConfigureAwait(false);
            raw = await readLine(cancellationToken).ConfigureAwait(false);
        }
        var cookie = IFlowPlatform.NormalizeCookie(raw);
        var bxAuth = IFlowPlatform.BXAuth(cookie) ?? throw new OAuthException("that is not an iFlow cookie: it has no BXAuth= value");
        foreach (var existing in context.ExistingCredentials?.Invoke() ?? [])
        {
            if (existing.Type == "iflow" && IFlowPlatform.BXAuth(existing.GetString("cookie")) == bxAuth)
                throw new OAuthException($"this iFlow cookie is already stored in {existing.Id}; delete that file first to log in again");
        }

        var current = await IFlowPlatform.GetKeyAsync(context.Http, context.Settings, cookie, cancellationToken).ConfigureAwait(false);
        var fresh = await IFlowPlatform.RegenerateKeyAsync(context.Http, context.Settings, cookie, current.Name, cancellationToken).ConfigureAwait(false);
        var now = context.Clock.GetUtcNow();
        var file = new JsonObject
        {
            ["type"] = "iflow",
            ["email"] = current.Name,
            ["api_key"] = fresh.ApiKey,
            ["expired"] = fresh.ExpireTime ?? current.ExpireTime ?? "",
            ["cookie"] = $"BXAuth={bxAuth};",
            ["last_refresh"] = Rfc3339(now),
            ["access_token"] = "",
            ["refresh_token"] = "",
            ["token_type"] = "",
            ["scope"] = "",
        };
        await context.Output.WriteLineAsync($"iFlow cookie login succeeded for the API key {current.Name}.").ConfigureAwait(false);
        return new LoginResult($"iflow-{CookieFileName(current.Name)}-{now.ToUnixTimeSeconds()}.json", file, current.Name);
    }

    public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        var credential = context.Credential;
        var file = JsonNode.Parse(credential.Metadata.GetRawText())!.AsObject();
        var now = context.Clock.GetUtcNow();
        var cookie = credential.GetString("cookie");
        var name = credential.GetString("email");
        if (!string.IsNullOrWhiteSpace(cookie) && !string.IsNullOrWhiteSpace(name))
        {
            // A cookie account has no token: its key is simply regenerated while the cookie still works.
            if ((credential.ExpiresAt ?? ParseExpired(credential.GetString("expired"))) is { } expires && expires - now > CookieRegenerateWithin) return file;
            var fresh = await IFlowPlatform.RegenerateKeyAsync(context.Http, context.Settings, cookie, name, cancellationToken).ConfigureAwait(false);
            file["api_key"] = fresh.ApiKey;
            if (fresh.ExpireTime is { } expireTime) file["expired"] = expireTime;
            file["last_refresh"] = Rfc3339(now);
            return file;
        }

        var refreshToken = credential.GetString("refresh_token");
        if (string.IsNullOrEmpty(refreshToken))
            throw new LoginRequiredException($"the iFlow credential {credential.Label} has neither a refresh_token nor a cookie; run login iflow");
        var client = TokenClient(context.Settings, context.Clock);
        var tokens = await client.RefreshAsync(context.Http, refreshToken, SecretInBody(client), cancellationToken).ConfigureAwait(false);
        file["access_token"] = tokens.AccessToken;
        if (tokens.RefreshToken is { } rotated) file["refresh_token"] = rotated;
        if (tokens.ExpiresAt is not null) file["expired"] = Rfc3339(tokens.ExpiresAt);
        try
        {
            file["api_key"] = (await UserInfoAsync(context.Http, context.Settings, tokens.AccessToken, cancellationToken).ConfigureAwait(false)).ApiKey;
        }
        catch (OAuthException)
        {
            // The new tokens are saved regardless (a rotated refresh token must not be lost); the key is fetched next time.
        }
        file["last_refresh"] = Rfc3339(now);
        return file;
    }

    // iFlow wants the client in a Basic header and in the form as well.
    private static OAuthTokenClient TokenClient(PluginSettings settings, TimeProvider clock) =>
        new(settings.GetString("token-url", DefaultTokenUrl), settings.GetString("client-id", DefaultClientId))
        {
            ClientSecret = settings.GetString("client-secret", DefaultClientSecret),
            UseBasicAuth = true,
            Clock = clock,
        };

    private static KeyValuePair<string, string>[] SecretInBody(OAuthTokenClient client) => [new("client_secret", client.ClientSecret!)];

    internal sealed record UserInfo(string ApiKey, string Account)
    {
        public override string ToString() => $"UserInfo({Account})";
    }

    /// <summary><c>GET {user-info-url}?accessToken=</c>: the account's API key and its email (or phone).</summary>
    internal static async Task<UserInfo> UserInfoAsync(HttpClient http, PluginSettings settings, string accessToken, CancellationToken cancellationToken)
    {
        var url = settings.GetString("user-info-url", DefaultUserInfoUrl);
        url += (url.Contains('?') ? "&" : "?") + "accessToken=" + Uri.EscapeDataString(accessToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        var (status, body) = await IFlowPlatform.SendAsync(http, request, "iFlow user info", cancellationToken).ConfigureAwait(false);
        var data = IFlowPlatform.Data(status, body, "iFlow user info", [accessToken]);
        var apiKey = IFlowPlatform.Text(data, "apiKey") ?? throw new OAuthException("iFlow user info has no apiKey for this account");
        var account = IFlowPlatform.Text(data, "email") ?? IFlowPlatform.Text(data, "phone")
            ?? throw new OAuthException("iFlow user info names neither an email nor a phone for this account");
        return new UserInfo(apiKey, account);
    }

    // The platform's "yyyy-MM-dd HH:mm", read as UTC like the host (and CLIProxyAPI) read it.
    private static DateTimeOffset? ParseExpired(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    internal static string Rfc3339(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    private static string FileSafe(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (var c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or '-' ? c : '_');
        return safe.ToString();
    }

    // CLIProxyAPI's naming for cookie accounts: characters outside [A-Za-z0-9_@.-] dropped, '*' (key masks) as 'x'.
    private static string CookieFileName(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (c == '*') safe.Append('x');
            else if (char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or '-') safe.Append(c);
        }
        return safe.Length > 0 ? safe.ToString() : "cookie";
    }
}
