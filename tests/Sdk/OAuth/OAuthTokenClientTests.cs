using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Sdk.OAuth;

public sealed class OAuthTokenClientTests
{
    private static readonly HttpClient Http = new();
    private static readonly AuthorizationCode Code = new("auth-code-123", "verifier-456", "http://localhost:54545/callback", "state-789");

    [Fact]
    public async Task Json_exchange_posts_a_json_object_and_parses_every_field()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens(expiresIn: 28800));
        var clock = new ManualClock();
        var client = new OAuthTokenClient(tokens.Url(), "claude-client", TokenBodyFormat.Json) { Clock = clock };

        var result = await client.ExchangeCodeAsync(Http, Code, [new("state", Code.State)]);

        var request = Assert.Single(tokens.Requests);
        Assert.StartsWith("application/json", request.Header("Content-Type"));
        var body = request.Json!;
        Assert.Equal("authorization_code", (string?)body["grant_type"]);
        Assert.Equal("claude-client", (string?)body["client_id"]);
        Assert.Equal("auth-code-123", (string?)body["code"]);
        Assert.Equal("http://localhost:54545/callback", (string?)body["redirect_uri"]);
        Assert.Equal("verifier-456", (string?)body["code_verifier"]);
        Assert.Equal("state-789", (string?)body["state"]);

        Assert.Equal("at-1", result.AccessToken);
        Assert.Equal("rt-1", result.RefreshToken);
        Assert.Equal("idt-1", result.IdToken);
        Assert.Equal("Bearer", result.TokenType);
        Assert.Equal(TimeSpan.FromHours(8), result.ExpiresIn);
        Assert.Equal(clock.GetUtcNow().AddHours(8), result.ExpiresAt);
        Assert.Equal("a@b.test", (string?)result.Raw["account"]!["email_address"]);
        Assert.DoesNotContain("at-1", result.ToString());
        Assert.DoesNotContain("rt-1", result.ToString());
    }

    [Fact]
    public async Task Form_exchange_posts_urlencoded_fields_with_the_secret_in_the_body()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens());
        var client = new OAuthTokenClient(tokens.Url(), "codex-client") { ClientSecret = "shh" };

        await client.ExchangeCodeAsync(Http, Code);

        var request = Assert.Single(tokens.Requests);
        Assert.StartsWith("application/x-www-form-urlencoded", request.Header("Content-Type"));
        var form = FakeTokenEndpoint.Form(request);
        Assert.Equal("authorization_code", form["grant_type"]);
        Assert.Equal("codex-client", form["client_id"]);
        Assert.Equal("auth-code-123", form["code"]);
        Assert.Equal("http://localhost:54545/callback", form["redirect_uri"]);
        Assert.Equal("verifier-456", form["code_verifier"]);
        Assert.Equal("shh", form["client_secret"]);
        Assert.Null(request.Header("Authorization"));
    }

    [Fact]
    public async Task Basic_auth_sends_the_client_credentials_in_the_header_only()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens());
        var client = new OAuthTokenClient(tokens.Url(), "id") { ClientSecret = "secret", UseBasicAuth = true, Headers = new Dictionary<string, string> { ["User-Agent"] = "ua/1" } };

        await client.RefreshAsync(Http, "rt-old");

        var request = Assert.Single(tokens.Requests);
        Assert.Equal("Basic " + Convert.ToBase64String("id:secret"u8.ToArray()), request.Header("Authorization"));
        Assert.Equal("ua/1", request.Header("User-Agent"));
        var form = FakeTokenEndpoint.Form(request);
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal("rt-old", form["refresh_token"]);
        Assert.False(form.ContainsKey("client_secret"));
    }

    [Theory]
    [InlineData(400, "invalid_grant")]
    [InlineData(401, "invalid_grant")]
    [InlineData(401, "invalid_token")]
    public async Task A_rejected_refresh_token_requires_a_new_login(int status, string error)
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(status, error, "Refresh token rt-secret-1 is revoked"));
        var client = new OAuthTokenClient(tokens.Url(), "c");

        var e = await Assert.ThrowsAsync<LoginRequiredException>(() => client.RefreshAsync(Http, "rt-secret-1"));

        Assert.Contains($"HTTP {status}", e.Message);
        Assert.Contains(error, e.Message);
        Assert.Contains("login again", e.Message);
        Assert.DoesNotContain("rt-secret-1", e.Message); // echoed by the provider, scrubbed
    }

    [Fact]
    public async Task An_expired_code_also_asks_for_a_new_login()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "code expired"));
        var e = await Assert.ThrowsAsync<LoginRequiredException>(() => new OAuthTokenClient(tokens.Url(), "c").ExchangeCodeAsync(Http, Code));
        Assert.Contains("code exchange failed: HTTP 400: invalid_grant: code expired", e.Message);
        Assert.DoesNotContain("auth-code-123", e.Message);
    }

    [Fact]
    public async Task Other_failures_name_status_and_provider_error_but_no_secret()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            FakeTokenEndpoint.OAuthError(500, "server_error", "try later"),
            FakeReply.Error(403, "<html>blocked by a firewall</html>"),
            FakeReply.Json(new System.Text.Json.Nodes.JsonObject { ["error"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "rate_limit_error", ["message"] = "slow" } }, 429),
            FakeReply.Json(new System.Text.Json.Nodes.JsonObject { ["token_type"] = "Bearer" }));
        var client = new OAuthTokenClient(tokens.Url(), "c");

        var server = await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(Http, "rt-secret-2"));
        Assert.Equal("token refresh failed: HTTP 500: server_error: try later", server.Message);
        Assert.Equal(500, server.Status);
        var html = await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(Http, "rt-secret-2"));
        Assert.Contains("HTTP 403 (a non-JSON answer", html.Message);
        var nested = await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(Http, "rt-secret-2"));
        Assert.Equal("token refresh failed: HTTP 429: rate_limit_error: slow", nested.Message);
        var noToken = await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(Http, "rt-secret-2"));
        Assert.Equal("token refresh failed: HTTP 200 without an access_token", noToken.Message);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_an_oauth_failure_naming_the_host()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var e = await Assert.ThrowsAsync<OAuthException>(() => new OAuthTokenClient($"http://127.0.0.1:{port}/token", "c").RefreshAsync(Http, "rt"));
        Assert.Contains($"cannot reach 127.0.0.1:{port}", e.Message);
    }
}
