using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Cli;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary><c>login claude</c> against a fake authorization server (the test plays the browser), and token refresh.</summary>
public sealed class ClaudeLoginTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pluginproxy-claude-login-").FullName;
    private FakeTokenEndpoint _tokens = null!;

    private string AuthDir => Path.Combine(_dir, "auths");
    private string ConfigPath => Path.Combine(_dir, "config.yaml");

    public async Task InitializeAsync()
    {
        _tokens = await FakeTokenEndpoint.StartAsync();
        await File.WriteAllTextAsync(ConfigPath, $"""
            auth-dir: "{AuthDir}"
            plugins:
              folder: "{Path.Combine(AppContext.BaseDirectory, "plugins")}"
            providers:
              claude:
                auth-url: "https://auth.invalid/oauth/authorize"
                token-url: "{_tokens.Url("/v1/oauth/token")}"
            """);
    }

    public async Task DisposeAsync()
    {
        await _tokens.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static FakeReply Tokens(string email = "dev@example.test") => FakeReply.Json(new JsonObject
    {
        ["access_token"] = "sk-ant-oat01-new", ["refresh_token"] = "sk-ant-ort01-new", ["expires_in"] = 28800, ["token_type"] = "Bearer",
        ["account"] = new JsonObject { ["uuid"] = "acc-1", ["email_address"] = email },
        ["organization"] = new JsonObject { ["uuid"] = "org-1", ["name"] = "Org" },
    });

    [Fact]
    public async Task Login_runs_pkce_with_the_fixed_redirect_and_writes_the_credential_0600()
    {
        _tokens.Enqueue(Tokens());
        var browser = new FakeBrowser();
        var port = ClaudePluginUnderTest.FreePort();
        var output = new StringWriter();
        var error = new StringWriter();
        var terminal = new Terminal { Out = TextWriter.Synchronized(output), Error = error, OpenBrowser = browser.Open, ReadLine = _ => Task.FromResult<string?>(null) };

        var run = Commands.RunAsync(["login", "claude", "--config", ConfigPath, "--callback-port", port.ToString()], terminal);
        var authorize = await browser.Opened.WaitAsync(TimeSpan.FromSeconds(30));
        using (var http = new HttpClient())
            await http.GetAsync($"http://127.0.0.1:{port}/callback?code=the-code&state={Uri.EscapeDataString(FakeBrowser.Param(authorize, "state"))}");

        Assert.Equal(0, await run);
        Assert.Equal("", error.ToString());
        Assert.Equal("auth.invalid", authorize.Host);
        Assert.Equal("9d1c250a-e61b-44d9-88ed-5944d1962f5e", FakeBrowser.Param(authorize, "client_id"));
        Assert.Equal("http://localhost:54545/callback", FakeBrowser.Param(authorize, "redirect_uri")); // fixed although the listener moved
        Assert.Equal("S256", FakeBrowser.Param(authorize, "code_challenge_method"));
        Assert.Equal("org:create_api_key user:profile user:inference", FakeBrowser.Param(authorize, "scope"));
        Assert.Equal("true", FakeBrowser.Param(authorize, "code"));

        var exchange = Assert.Single(_tokens.Requests);
        Assert.StartsWith("application/json", exchange.Header("content-type"));
        var body = exchange.Json!;
        Assert.Equal("authorization_code", (string?)body["grant_type"]);
        Assert.Equal("the-code", (string?)body["code"]);
        Assert.Equal("9d1c250a-e61b-44d9-88ed-5944d1962f5e", (string?)body["client_id"]);
        Assert.Equal("http://localhost:54545/callback", (string?)body["redirect_uri"]);
        Assert.Equal(FakeBrowser.Param(authorize, "state"), (string?)body["state"]);
        var verifier = (string)body["code_verifier"]!;
        Assert.Equal(128, verifier.Length);
        Assert.Equal(FakeBrowser.Param(authorize, "code_challenge"), Pkce.ChallengeFor(verifier));

        var path = Path.Combine(AuthDir, "claude-dev@example.test.json");
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal("claude", (string?)saved["type"]);
        Assert.Equal("sk-ant-oat01-new", (string?)saved["access_token"]);
        Assert.Equal("sk-ant-ort01-new", (string?)saved["refresh_token"]);
        Assert.Equal("dev@example.test", (string?)saved["email"]);
        var expired = DateTimeOffset.Parse((string)saved["expired"]!);
        var refreshed = DateTimeOffset.Parse((string)saved["last_refresh"]!);
        Assert.InRange(expired - refreshed, TimeSpan.FromHours(8) - TimeSpan.FromSeconds(5), TimeSpan.FromHours(8) + TimeSpan.FromSeconds(5));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.DoesNotContain("sk-ant-oat01-new", output.ToString());
    }

    [Fact]
    public async Task A_failed_exchange_writes_nothing()
    {
        _tokens.Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "Invalid authorization code"));
        var browser = new FakeBrowser();
        var port = ClaudePluginUnderTest.FreePort();
        var error = new StringWriter();
        var terminal = new Terminal { Out = TextWriter.Synchronized(new StringWriter()), Error = error, OpenBrowser = browser.Open, ReadLine = _ => Task.FromResult<string?>(null) };

        var run = Commands.RunAsync(["login", "claude", "--config", ConfigPath, "--callback-port", port.ToString()], terminal);
        var authorize = await browser.Opened.WaitAsync(TimeSpan.FromSeconds(30));
        using (var http = new HttpClient())
            await http.GetAsync($"http://127.0.0.1:{port}/callback?code=bad-code&state={Uri.EscapeDataString(FakeBrowser.Param(authorize, "state"))}");

        Assert.Equal(1, await run);
        Assert.Contains("invalid_grant", error.ToString());
        Assert.False(Directory.Exists(AuthDir) && Directory.EnumerateFiles(AuthDir).Any());
    }

    [Fact]
    public async Task A_pasted_code_with_its_state_completes_the_login()
    {
        _tokens.Enqueue(Tokens("paste@example.test"));
        var browser = new FakeBrowser();
        var context = new LoginContext
        {
            NoBrowser = false,
            CallbackPort = 0,
            Http = new HttpClient(),
            Output = TextWriter.Synchronized(new StringWriter()),
            OpenBrowser = browser.Open,
            PasteAfter = TimeSpan.Zero,
            // What Anthropic's page shows: code#state.
            ReadLine = async ct => $"pasted-code#{FakeBrowser.Param(await browser.Opened.WaitAsync(ct), "state")}",
            Settings = Settings(),
        };

        var result = await ClaudePluginUnderTest.Authenticator.LoginAsync(context, default);

        Assert.Equal("claude-paste@example.test.json", result.FileName);
        var body = Assert.Single(_tokens.Requests).Json!;
        Assert.Equal("pasted-code", (string?)body["code"]);
        Assert.Equal(FakeBrowser.Param(await browser.Opened, "state"), (string?)body["state"]);
    }

    [Fact]
    public async Task A_pasted_code_for_another_login_is_refused()
    {
        var browser = new FakeBrowser();
        var context = new LoginContext
        {
            Http = new HttpClient(), CallbackPort = 0, Output = TextWriter.Synchronized(new StringWriter()), OpenBrowser = browser.Open, PasteAfter = TimeSpan.Zero,
            ReadLine = _ => Task.FromResult<string?>("http://localhost:54545/callback?code=c&state=someone-elses"), Settings = Settings(),
        };

        await Assert.ThrowsAsync<OAuthException>(() => ClaudePluginUnderTest.Authenticator.LoginAsync(context, default));
        Assert.Empty(_tokens.Requests);
    }

    private PluginSettings Settings() => new(JsonSerializer.SerializeToElement(new JsonObject
    {
        ["auth-url"] = "https://auth.invalid/oauth/authorize", ["token-url"] = _tokens.Url("/v1/oauth/token"),
    }), default);

    private static CredentialRecord Credential(string refreshToken = "sk-ant-ort01-old") => new()
    {
        Id = "claude-dev@example.test.json", Type = "claude", Provider = "claude", Label = "dev@example.test", Source = CredentialSource.File,
        Metadata = JsonSerializer.SerializeToElement(new JsonObject
        {
            ["type"] = "claude", ["email"] = "dev@example.test", ["access_token"] = "sk-ant-oat01-old", ["refresh_token"] = refreshToken,
            ["expired"] = "2026-01-01T01:00:00Z", ["prefix"] = "team",
        }),
    };

    [Fact]
    public async Task Refresh_posts_json_and_keeps_the_files_other_fields()
    {
        _tokens.Enqueue(Tokens());
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var authenticator = ClaudePluginUnderTest.Authenticator;

        var refreshed = await authenticator.RefreshAsync(new RefreshContext { Credential = Credential(), Http = new HttpClient(), Settings = Settings(), Clock = clock }, default);

        Assert.Equal(TimeSpan.FromHours(4), authenticator.RefreshLead);
        var body = Assert.Single(_tokens.Requests).Json!;
        Assert.Equal("refresh_token", (string?)body["grant_type"]);
        Assert.Equal("sk-ant-ort01-old", (string?)body["refresh_token"]);
        Assert.Equal("9d1c250a-e61b-44d9-88ed-5944d1962f5e", (string?)body["client_id"]);
        Assert.Equal("sk-ant-oat01-new", (string?)refreshed["access_token"]);
        Assert.Equal("sk-ant-ort01-new", (string?)refreshed["refresh_token"]);
        Assert.Equal("2026-01-01T08:00:00Z", (string?)refreshed["expired"]);
        Assert.Equal("2026-01-01T00:00:00Z", (string?)refreshed["last_refresh"]);
        Assert.Equal("team", (string?)refreshed["prefix"]);
    }

    [Fact]
    public async Task A_rejected_refresh_token_asks_for_a_new_login()
    {
        _tokens.Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "Refresh token not found or invalid"));

        var failure = await Assert.ThrowsAsync<LoginRequiredException>(() => ClaudePluginUnderTest.Authenticator.RefreshAsync(
            new RefreshContext { Credential = Credential(), Http = new HttpClient(), Settings = Settings() }, default));
        Assert.DoesNotContain("sk-ant-ort01-old", failure.Message);
    }
}
