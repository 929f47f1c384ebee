using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Plugins.Qwen;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.IFlow;

/// <summary><c>login iflow</c> (authorization code, then user info), <c>login iflow --cookie</c> and both refreshes, against fakes on loopback.</summary>
public sealed class IFlowLoginTests
{
    private static readonly HttpClient Http = new();
    private static IAuthenticator Authenticator => BuiltPlugins.IFlow.Authenticator!;

    private static PluginSettings Settings(FakeTokenEndpoint fake) => BuiltPlugins.Settings(
        ("auth-url", "https://iflow.example.test/oauth"),
        ("token-url", fake.Url("/oauth/token")),
        ("user-info-url", fake.Url("/api/oauth/getUserInfo")),
        ("platform-url", fake.Url("/api/openapi/apikey")));

    private static FakeReply UserInfo(string apiKey = "sk-iflow-user-1", string? email = "flow@example.test", string? phone = "13800000000") =>
        FakeReply.Json(new JsonObject
        {
            ["success"] = true, ["data"] = new JsonObject { ["apiKey"] = apiKey, ["email"] = email, ["phone"] = phone },
        });

    private static FakeReply PlatformKey(string apiKey, string expireTime, string name = "my-key") => FakeReply.Json(new JsonObject
    {
        ["success"] = true,
        ["data"] = new JsonObject { ["hasExpired"] = false, ["expireTime"] = expireTime, ["name"] = name, ["apiKey"] = apiKey, ["apiKeyMask"] = "sk-***" },
    });

    private static FakeReply Gzipped(JsonObject body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(body.ToJsonString()));
        return FakeReply.Raw(200, "application/json", buffer.ToArray()); // gzip without Content-Encoding, as the platform sometimes does
    }

    [Fact]
    public async Task OAuth_login_sends_redirect_trades_the_code_with_basic_auth_and_takes_the_key_from_user_info()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens("iflow-at-1", "iflow-rt-1", 7200), UserInfo());
        var opened = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero));
        var output = new StringWriter();
        var context = new LoginContext
        {
            Http = Http, Output = TextWriter.Synchronized(output), Settings = Settings(fake), CallbackPort = 0, Clock = clock,
            OpenBrowser = url => opened.TrySetResult(new Uri(url)),
        };

        var login = Authenticator.LoginAsync(context, CancellationToken.None);
        var authorize = await opened.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var query = HttpUtility.ParseQueryString(authorize.Query);
        var redirect = new Uri(query["redirect"]!);
        using (var browser = new HttpClient())
            (await browser.GetAsync($"http://127.0.0.1:{redirect.Port}{redirect.AbsolutePath}?code=iflow-code-1&state={Uri.EscapeDataString(query["state"]!)}")).Dispose();
        var result = await login;

        Assert.Equal("https://iflow.example.test/oauth", authorize.GetLeftPart(UriPartial.Path));
        Assert.Equal("10009311001", query["client_id"]);
        Assert.Equal("phone", query["loginMethod"]);
        Assert.Equal("phone", query["type"]);
        Assert.Equal("/oauth2callback", redirect.AbsolutePath);
        Assert.Equal("localhost", redirect.Host);
        Assert.Null(query["redirect_uri"]);
        Assert.Null(query["code_challenge"]);

        var exchange = fake.Requests[0];
        Assert.Equal("/oauth/token", exchange.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("10009311001:4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW")), exchange.Header("Authorization"));
        var form = FakeTokenEndpoint.Form(exchange);
        Assert.Equal("authorization_code", form["grant_type"]);
        Assert.Equal("iflow-code-1", form["code"]);
        Assert.Equal(redirect.ToString(), form["redirect_uri"]);
        Assert.Equal("10009311001", form["client_id"]);
        Assert.Equal("4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW", form["client_secret"]);
        var info = fake.Requests[1];
        Assert.Equal("GET", info.Method);
        Assert.Equal("/api/oauth/getUserInfo", info.Path);
        Assert.Equal("iflow-at-1", HttpUtility.ParseQueryString(info.Query)["accessToken"]);

        Assert.Equal($"iflow-flow@example.test-{clock.GetUtcNow().ToUnixTimeSeconds()}.json", result.FileName);
        var file = result.Content;
        Assert.Equal("iflow", (string?)file["type"]);
        Assert.Equal("sk-iflow-user-1", (string?)file["api_key"]);
        Assert.Equal("iflow-at-1", (string?)file["access_token"]);
        Assert.Equal("iflow-rt-1", (string?)file["refresh_token"]);
        Assert.Equal("flow@example.test", (string?)file["email"]);
        Assert.Equal("2026-02-01T10:00:00Z", (string?)file["expired"]);
        Assert.Equal("", (string?)file["cookie"]);
        Assert.DoesNotContain("iflow-at-1", output.ToString());
        Assert.DoesNotContain("sk-iflow-user-1", output.ToString());
    }

    [Fact]
    public async Task A_user_info_answer_without_a_key_fails_without_echoing_the_token()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            FakeTokenEndpoint.Tokens("iflow-at-secret"),
            FakeReply.Json(new JsonObject { ["success"] = false, ["message"] = "token iflow-at-secret invalid" }));
        var opened = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = new LoginContext
        {
            Http = Http, Output = TextWriter.Null, Settings = Settings(fake), CallbackPort = 0, OpenBrowser = url => opened.TrySetResult(new Uri(url)),
        };

        var login = Authenticator.LoginAsync(context, CancellationToken.None);
        var query = HttpUtility.ParseQueryString((await opened.Task.WaitAsync(TimeSpan.FromSeconds(30))).Query);
        var redirect = new Uri(query["redirect"]!);
        using (var browser = new HttpClient())
            (await browser.GetAsync($"http://127.0.0.1:{redirect.Port}/oauth2callback?code=c&state={Uri.EscapeDataString(query["state"]!)}")).Dispose();
        var e = await Assert.ThrowsAsync<OAuthException>(() => login);

        Assert.StartsWith("iFlow user info failed: HTTP 200:", e.Message);
        Assert.DoesNotContain("iflow-at-secret", e.Message);
    }

    private static LoginContext CookieContext(FakeTokenEndpoint fake, string? cookieOption, Func<CancellationToken, Task<string?>>? readLine = null,
        IReadOnlyList<CredentialRecord>? existing = null, TimeProvider? clock = null) => new()
    {
        Http = Http, Output = TextWriter.Null, Settings = Settings(fake), ReadLine = readLine, Clock = clock ?? TimeProvider.System,
        Options = new Dictionary<string, string> { ["cookie"] = cookieOption ?? "true" },
        ExistingCredentials = () => existing ?? [],
    };

    [Fact]
    public async Task Cookie_login_reads_the_cookie_fetches_and_regenerates_the_platform_key()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            PlatformKey("sk-old-key", "2026-02-10 12:00", name: "team*key"),
            Gzipped(new JsonObject { ["success"] = true, ["data"] = new JsonObject { ["apiKey"] = "sk-new-key", ["expireTime"] = "2026-05-10 12:00", ["name"] = "team*key" } }));
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero));
        var context = CookieContext(fake, null, _ => Task.FromResult<string?>("  other=1;\n  BXAuth=bx-value-123;   lang=zh  "), clock: clock);

        var result = await Authenticator.LoginAsync(context, CancellationToken.None);

        var get = fake.Requests[0];
        Assert.Equal("GET", get.Method);
        Assert.Equal("/api/openapi/apikey", get.Path);
        Assert.Equal("other=1; BXAuth=bx-value-123; lang=zh;", get.Header("Cookie"));
        Assert.Contains("Chrome/91", get.Header("User-Agent"));
        Assert.Equal("zh-CN,zh;q=0.9,en;q=0.8", get.Header("Accept-Language"));
        var post = fake.Requests[1];
        Assert.Equal("POST", post.Method);
        Assert.Equal("team*key", (string?)post.Json!["name"]);
        Assert.Equal(fake.Url("/").TrimEnd('/'), post.Header("Origin"));
        Assert.StartsWith(fake.Url("/").TrimEnd('/'), post.Header("Referer"));

        Assert.Equal($"iflow-teamxkey-{clock.GetUtcNow().ToUnixTimeSeconds()}.json", result.FileName);
        var file = result.Content;
        Assert.Equal("iflow", (string?)file["type"]);
        Assert.Equal("sk-new-key", (string?)file["api_key"]);
        Assert.Equal("team*key", (string?)file["email"]);
        Assert.Equal("2026-05-10 12:00", (string?)file["expired"]);
        Assert.Equal("BXAuth=bx-value-123;", (string?)file["cookie"]);
        Assert.Equal("", (string?)file["refresh_token"]);
    }

    [Fact]
    public async Task A_cookie_already_stored_for_another_account_is_refused_before_any_call()
    {
        await using var fake = await FakeTokenEndpoint.StartAsync();
        var existing = new CredentialRecord
        {
            Id = "iflow-first-1700000000.json", Type = "iflow", Provider = "iflow", Label = "first",
            Metadata = JsonDocument.Parse("""{"type":"iflow","cookie":"BXAuth=bx-dup;","email":"first"}""").RootElement.Clone(),
        };

        var e = await Assert.ThrowsAsync<OAuthException>(() =>
            Authenticator.LoginAsync(CookieContext(fake, "foo=bar; BXAuth=bx-dup", existing: [existing]), CancellationToken.None));

        Assert.Contains("already stored in iflow-first-1700000000.json", e.Message);
        Assert.DoesNotContain("bx-dup", e.Message);
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task A_cookie_without_BXAuth_is_refused()
    {
        await using var fake = await FakeTokenEndpoint.StartAsync();
        var e = await Assert.ThrowsAsync<OAuthException>(() => Authenticator.LoginAsync(CookieContext(fake, "session=abc"), CancellationToken.None));
        Assert.Contains("BXAuth", e.Message);
        Assert.Empty(fake.Requests);
    }

    private static CredentialRecord Stored(string json, DateTimeOffset? expires = null) => new()
    {
        Id = "iflow-x.json", Type = "iflow", Provider = "iflow", Label = "x", ExpiresAt = expires,
        Metadata = JsonDocument.Parse(json).RootElement.Clone(),
    };

    [Fact]
    public async Task OAuth_refresh_uses_the_refresh_token_then_user_info_for_the_key()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens("iflow-at-2", "iflow-rt-2", 3600), UserInfo("sk-rotated"));
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"flow@example.test","api_key":"sk-old","access_token":"a1","refresh_token":"iflow-rt-1","cookie":""}"""),
            Http = Http, Settings = Settings(fake), Clock = clock,
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        Assert.Equal(TimeSpan.FromHours(24), Authenticator.RefreshLead);
        var form = FakeTokenEndpoint.Form(fake.Requests[0]);
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal("iflow-rt-1", form["refresh_token"]);
        Assert.Equal("4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW", form["client_secret"]);
        Assert.StartsWith("Basic ", fake.Requests[0].Header("Authorization"));
        Assert.Equal("iflow-at-2", HttpUtility.ParseQueryString(fake.Requests[1].Query)["accessToken"]);
        Assert.Equal("sk-rotated", (string?)file["api_key"]);
        Assert.Equal("iflow-at-2", (string?)file["access_token"]);
        Assert.Equal("iflow-rt-2", (string?)file["refresh_token"]);
        Assert.Equal("2026-02-01T09:00:00Z", (string?)file["expired"]);
        Assert.Equal("2026-02-01T08:00:00Z", (string?)file["last_refresh"]);
    }

    [Fact]
    public async Task A_failed_user_info_call_keeps_the_new_tokens_and_the_old_key()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens("iflow-at-3", "iflow-rt-3", 3600),
            FakeReply.Error(500, """{"success":false,"message":"busy"}"""));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"flow@example.test","api_key":"sk-old","access_token":"a1","refresh_token":"iflow-rt-1","expired":"2026-01-01T00:00:00Z"}"""),
            Http = Http, Settings = Settings(fake),
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        // A rotated refresh token must not be lost because the follow-up call failed; the key is fetched next time.
        Assert.Equal("iflow-rt-3", (string?)file["refresh_token"]);
        Assert.Equal("iflow-at-3", (string?)file["access_token"]);
        Assert.Equal("sk-old", (string?)file["api_key"]);
        Assert.NotEqual("2026-01-01T00:00:00Z", (string?)file["expired"]);
    }

    [Fact]
    public async Task OAuth_refresh_rejected_for_good_means_a_new_login()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant"));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"e","api_key":"k","refresh_token":"dead-refresh"}"""), Http = Http, Settings = Settings(fake),
        };
        await Assert.ThrowsAsync<LoginRequiredException>(() => Authenticator.RefreshAsync(context, CancellationToken.None));
    }

    [Fact]
    public async Task Cookie_refresh_regenerates_the_key_when_it_expires_within_48_hours()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(PlatformKey("sk-regenerated", "2026-05-01 00:00"));
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"my-key","api_key":"sk-expiring","cookie":"BXAuth=bx-1;","expired":"2026-02-02 20:00"}"""),
            Http = Http, Settings = Settings(fake), Clock = clock,
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        var post = Assert.Single(fake.Requests);
        Assert.Equal("POST", post.Method);
        Assert.Equal("my-key", (string?)post.Json!["name"]);
        Assert.Equal("BXAuth=bx-1;", post.Header("Cookie"));
        Assert.Equal("sk-regenerated", (string?)file["api_key"]);
        Assert.Equal("2026-05-01 00:00", (string?)file["expired"]);
        Assert.Equal("BXAuth=bx-1;", (string?)file["cookie"]);
    }

    [Fact]
    public async Task Cookie_refresh_leaves_a_key_alone_that_is_valid_for_more_than_48_hours()
    {
        await using var fake = await FakeTokenEndpoint.StartAsync();
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"my-key","api_key":"sk-fine","cookie":"BXAuth=bx-1;","expired":"2026-02-04 08:01"}"""),
            Http = Http, Settings = Settings(fake), Clock = clock,
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        Assert.Empty(fake.Requests);
        Assert.Equal("sk-fine", (string?)file["api_key"]);
    }

    [Fact]
    public async Task A_cookie_the_platform_no_longer_accepts_means_a_new_login()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeReply.Error(401, """{"success":false,"message":"not logged in"}"""));
        var context = new RefreshContext
        {
            Credential = Stored("""{"type":"iflow","email":"my-key","api_key":"k","cookie":"BXAuth=bx-gone;","expired":"2026-01-01 00:00"}"""),
            Http = Http, Settings = Settings(fake),
        };

        var e = await Assert.ThrowsAsync<LoginRequiredException>(() => Authenticator.RefreshAsync(context, CancellationToken.None));
        Assert.Contains("login iflow --cookie", e.Message);
    }
}
