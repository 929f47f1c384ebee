using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Qwen;

/// <summary>
/// <c>login qwen</c>: Qwen's device-code flow with PKCE at chat.qwen.ai; the account is named by <c>--email</c> or a
/// prompt, since Qwen has no user-info call. Refreshes use the refresh token (form body) three hours before expiry.
/// Settings (<c>providers.qwen</c>): <c>device-code-url</c>, <c>token-url</c>, <c>client-id</c>, <c>api-url</c>.
/// </summary>
internal sealed class QwenAuthenticator : IAuthenticator
{
    public const string DefaultDeviceCodeUrl = "https://chat.qwen.ai/api/v1/oauth2/device/code";
    public const string DefaultTokenUrl = "https://chat.qwen.ai/api/v1/oauth2/token";
    public const string DefaultClientId = "f0304373b74a44d2b584a3fb70ca9e56";
    public const string Scope = "openid profile email model.completion";

    public TimeSpan? RefreshLead => TimeSpan.FromHours(3);

    public async Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var tokens = await DeviceCodeFlow.RunAsync(context, new DeviceCodeRequest
        {
            DeviceAuthorizationEndpoint = settings.GetString("device-code-url", DefaultDeviceCodeUrl),
            TokenEndpoint = settings.GetString("token-url", DefaultTokenUrl),
            ClientId = settings.GetString("client-id", DefaultClientId),
            Scope = Scope,
            UsePkce = true,
            DisplayName = "Qwen",
        }, cancellationToken).ConfigureAwait(false);

        var email = await AccountNameAsync(context, cancellationToken).ConfigureAwait(false);
        var now = context.Clock.GetUtcNow();
        var file = new JsonObject
        {
            ["type"] = "qwen",
            ["email"] = email,
            ["access_token"] = tokens.AccessToken,
            ["refresh_token"] = tokens.RefreshToken ?? "",
            ["resource_url"] = Text(tokens.Raw, "resource_url") ?? "",
            ["expired"] = Rfc3339(tokens.ExpiresAt),
            ["last_refresh"] = Rfc3339(now),
        };
        await context.Output.WriteLineAsync($"Qwen login succeeded for {email}.").ConfigureAwait(false);
        return new LoginResult($"qwen-{FileSafe(email)}.json", file, email);
    }

    public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        var credential = context.Credential;
        var refreshToken = credential.GetString("refresh_token");
        if (string.IsNullOrEmpty(refreshToken))
            throw new LoginRequiredException($"the Qwen credential {credential.Label} has no refresh_token; run login qwen");
        var settings = context.Settings;
        var client = new OAuthTokenClient(settings.GetString("token-url", DefaultTokenUrl), settings.GetString("client-id", DefaultClientId))
        {
            Clock = context.Clock,
        };
        var tokens = await client.RefreshAsync(context.Http, refreshToken, cancellationToken: cancellationToken).ConfigureAwait(false);

        var file = JsonNode.Parse(credential.Metadata.GetRawText())!.AsObject();
        file["type"] = "qwen";
        file["access_token"] = tokens.AccessToken;
        if (tokens.RefreshToken is { } rotated) file["refresh_token"] = rotated;
        if (Text(tokens.Raw, "resource_url") is { } resource) file["resource_url"] = resource;
        if (tokens.ExpiresAt is not null) file["expired"] = Rfc3339(tokens.ExpiresAt); // keep the old expiry rather than lose it
        file["last_refresh"] = Rfc3339(context.Clock.GetUtcNow());
        return file;
    }

    /// <summary><c>--email</c>, else asked for; an account needs a name to tell its file from others.</summary>
    private static async Task<string> AccountNameAsync(LoginContext context, CancellationToken cancellationToken)
    {
        if (context.Options.TryGetValue("email", out var given) && !string.IsNullOrWhiteSpace(given) && given != "true") return given.Trim();
        if (context.ReadLine is { } readLine)
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                await context.Output.WriteLineAsync("Enter an email address or alias for this Qwen account:").ConfigureAwait(false);
                var line = await readLine(cancellationToken).ConfigureAwait(false);
                if (line is null) break;
                if (!string.IsNullOrWhiteSpace(line)) return line.Trim();
            }
        }
        throw new OAuthException("the Qwen account needs a name: pass --email <address or alias>");
    }

    internal static string Rfc3339(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    /// <summary>Keeps a name usable in a file name: letters, digits and <c>@._-</c>.</summary>
    internal static string FileSafe(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (var c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or '-' ? c : '_');
        return safe.ToString();
    }

    private static string? Text(JsonObject raw, string name) =>
        raw[name] is JsonValue value && value.TryGetValue<string>(out var text) && !string.IsNullOrWhiteSpace(text) ? text : null;
}
