using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Plugins.Gemini.Vertex;

/// <summary>
/// Access tokens for service accounts: the JWT-bearer grant at <c>providers.vertex.token-url</c>, cached until five
/// minutes before expiry (CLIProxyAPI fetches one per request). The cache holds only strings and times, keyed by
/// credential id and key fingerprint, so an edited key file never reuses the old account's token.
/// </summary>
internal static class VertexTokens
{
    public const string TokenUrl = "https://oauth2.googleapis.com/token";
    private static readonly TimeSpan Lead = TimeSpan.FromMinutes(5);
    private static readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> Cache = new();

    private static string Key(UpstreamCall call, ServiceAccount account) => call.Credential.Id + "|" + account.Fingerprint();

    /// <summary>A cached token that is still good, or null.</summary>
    public static string? Cached(UpstreamCall call, ServiceAccount account) =>
        Cache.TryGetValue(Key(call, account), out var entry) && entry.ExpiresAt - Lead > call.Clock.GetUtcNow() ? entry.Token : null;

    /// <summary>Forgets the credential's tokens (the upstream rejected one).</summary>
    public static void Forget(string credentialId)
    {
        foreach (var key in Cache.Keys)
            if (key.StartsWith(credentialId + "|", StringComparison.Ordinal)) Cache.TryRemove(key, out _);
    }

    /// <summary>Makes sure a good token is cached for the call's credential, fetching one when needed.</summary>
    public static async Task<string> EnsureAsync(UpstreamCall call, ServiceAccount account, CancellationToken cancellationToken)
    {
        if (Cached(call, account) is { } token) return token;
        var url = GeminiSettings.Get(call.Settings, "token-url", TokenUrl);
        var now = call.Clock.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                ["assertion"] = account.SignedAssertion(url, now),
            }),
        };
        HttpResponseMessage response;
        try
        {
            response = await call.Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamException(FailureKind.Transient, 502, "Vertex token endpoint unreachable: " + e.Message, inner: e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var json = JsonText.TryParse(text) as JsonObject;
            if (!response.IsSuccessStatusCode)
            {
                // Only Google's error code and description: never the body, which could echo the assertion.
                var detail = $"{(string?)json?["error"]} {(string?)json?["error_description"]}".Trim();
                var status = (int)response.StatusCode;
                var kind = status is 400 or 401 or 403 ? FailureKind.AuthRevoked : FailureKind.Transient;
                throw new UpstreamException(kind, status, $"Vertex token request failed: HTTP {status}" + (detail.Length > 0 ? ": " + detail : ""));
            }
            var accessToken = (string?)json?["access_token"];
            if (string.IsNullOrEmpty(accessToken)) throw new UpstreamException(FailureKind.Transient, 502, "Vertex token endpoint answered without access_token");
            var seconds = json?["expires_in"] is JsonValue v && v.TryGetValue<long>(out var s) ? s : 3600;
            Cache[Key(call, account)] = (accessToken, now.AddSeconds(seconds));
            return accessToken;
        }
    }
}
