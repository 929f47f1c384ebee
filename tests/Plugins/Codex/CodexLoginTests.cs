using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Cli;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Codex;

/// <summary><c>login codex</c> against a fake OpenAI auth server (the test plays the browser), and the token refresh.</summary>
public sealed class CodexLoginTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pluginproxy-codex-login-").FullName;
    private FakeTokenEndpoint _tokens = null!;
    private static IAuthenticator Authenticator => CodexPluginUnderTest.Plugin.Authenticator!;

    private string AuthDir => Path.Combine(_dir, "auths");
    private string ConfigPath => Path.Combine(_dir, "config.yaml");

    public async Task InitializeAsync()
    {
        _tokens = await FakeTokenEndpoint.StartAsync();
        await File.WriteAllTextAsync(ConfigPath, $"""
            auth-dir: "{AuthDir}"
            plugins:
              folder: "{CodexPluginUnderTest.Folder}"
            providers:
              codex:
                auth-url: "https://auth.fake.test/oauth/authorize"
                token-url: "{_tokens.Url("/oauth/token")}"
            """);
    }

    public async Task DisposeAsync()
    {
        await _tokens.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    internal static string IdToken(string? email = "a@b.test", string? plan = "Plus", string account = "acct-9")
    {
        var payload = new JsonObject { ["iss"] = "https://auth.openai.com", ["email"] = email };
        payload["https://api.openai.com/auth"] = new JsonObject { ["chatgpt_account_id"] = account, ["chatgpt_plan_type"] = plan, ["user_id"] = "user-1" };
        static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{B64("""{"alg":"RS256"}""")}.{B64(payload.ToJsonString())}.c2ln";
    }

    private static FakeReply_ Tokens(string idToken, string access = "at-codex-1", string refresh = "rt-codex-1") => new(idToken, access, refresh);

    private sealed record FakeReply_(string IdToken, string Access, string Refresh)
    {
        public Support.Fakes.FakeReply Reply => Support.Fakes.FakeReply.Json(new JsonObject
        {
            ["access_token"] = Access, ["refresh_token"] = Refresh, ["id_token"] = IdToken, ["expires_in"] = 864000, ["token_type"] = "Bearer",
        });
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The user's browser after consent: OpenAI redirects to localhost:1455, which the tunnel (here: the test) maps to the listener's port.</summary>
    private static async Task<HttpResponseMessage> ConsentAsync(FakeBrowser browser, int port, Func<Uri, string> query)
    {
        var authorize = await browser.Opened.WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient();
        return await http.GetAsync($"http://127.0.0.1:{port}/auth/callback?{query(authorize)}");
    }

    private (Terminal Terminal, StringWriter Out, StringWriter Error) NewTerminal(FakeBrowser browser)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        return (new Terminal { Out = TextWriter.Synchronized(output), Error = error, OpenBrowser = browser.Open, ReadLine = _ => Task.FromResult<string?>(null) }, output, error);
    }

    [Fact]
    public async Task Login_runs_PKCE_against_the_auth_server_and_writes_codex_email_plan_json_with_mode_0600()
    {
        _tokens.Enqueue(Tokens(IdToken()).Reply);
        var browser = new FakeBrowser();
        var (terminal, output, error) = NewTerminal(browser);
        var port = FreePort();

        var run = Commands.RunAsync(["login", "codex", "--config", ConfigPath, "--callback-port", port.ToString()], terminal);
        Uri? authorize = null;
        using var page = await ConsentAsync(browser, port, url => { authorize = url; return $"code=code-123456&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}"; });

        Assert.Equal(0, await run);
        Assert.Equal("", error.ToString());
        var query = HttpUtility.ParseQueryString(authorize!.Query);
        Assert.Equal("https://auth.fake.test/oauth/authorize", authorize.GetLeftPart(UriPartial.Path));
        Assert.Equal("app_EMoamEEZ73f0CkXaXp7hrann", query["client_id"]);
        Assert.Equal("http://localhost:1455/auth/callback", query["redirect_uri"]);
        Assert.Equal("openid email profile offline_access", query["scope"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("login", query["prompt"]);
        Assert.Equal("true", query["id_token_add_organizations"]);
        Assert.Equal("true", query["codex_cli_simplified_flow"]);

        var form = FakeTokenEndpoint.Form(Assert.Single(_tokens.Requests));
        Assert.Equal("authorization_code", form["grant_type"]);
        Assert.Equal("code-123456", form["code"]);
        Assert.Equal("app_EMoamEEZ73f0CkXaXp7hrann", form["client_id"]);
        Assert.Equal("http://localhost:1455/auth/callback", form["redirect_uri"]);
        Assert.Equal(query["code_challenge"], Pkce.ChallengeFor(form["code_verifier"]));
        Assert.Equal(128, form["code_verifier"].Length);
        Assert.StartsWith("application/x-www-form-urlencoded", _tokens.Requests[0].Header("content-type"));

        var path = Path.Combine(AuthDir, "codex-a@b.test-plus.json");
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        Assert.Equal("codex", (string?)saved["type"]);
        Assert.Equal(IdToken(), (string?)saved["id_token"]);
        Assert.Equal("at-codex-1", (string?)saved["access_token"]);
        Assert.Equal("rt-codex-1", (string?)saved["refresh_token"]);
        Assert.Equal("acct-9", (string?)saved["account_id"]);
        Assert.Equal("a@b.test", (string?)saved["email"]);
        Assert.True(DateTimeOffset.TryParse((string?)saved["expired"], out var expired) && expired > DateTimeOffset.UtcNow.AddDays(9));
        Assert.True(DateTimeOffset.TryParse((string?)saved["last_refresh"], out _));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.DoesNotContain("at-codex-1", output.ToString());
        Assert.DoesNotContain("code-123456", output.ToString());
    }

    [Fact]
    public async Task A_wrong_state_is_refused_and_nothing_is_written()
    {
        var browser = new FakeBrowser();
        var (terminal, _, error) = NewTerminal(browser);
        var port = FreePort();

        var run = Commands.RunAsync(["login", "codex", "--config", ConfigPath, "--callback-port", port.ToString()], terminal);
        using var forged = await ConsentAsync(browser, port, _ => "code=evil-code&state=forged");

        Assert.Equal(1, await run);
        Assert.Contains("Login failed", error.ToString());
        Assert.Empty(_tokens.Requests);
        Assert.False(Directory.Exists(AuthDir) && Directory.EnumerateFileSystemEntries(AuthDir).Any());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_exchange_or_an_ID_token_without_email_writes_nothing(bool noEmail)
    {
        if (noEmail) _tokens.Enqueue(Tokens(IdToken(email: null)).Reply);
        else _tokens.Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "bad code"));
        var browser = new FakeBrowser();
        var (terminal, _, error) = NewTerminal(browser);
        var port = FreePort();

        var run = Commands.RunAsync(["login", "codex", "--config", ConfigPath, "--callback-port", port.ToString()], terminal);
        using var page = await ConsentAsync(browser, port, url => $"code=code-999999&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}");

        Assert.Equal(1, await run);
        Assert.Contains(noEmail ? "no email" : "invalid_grant", error.ToString());
        Assert.DoesNotContain("code-999999", error.ToString());
        Assert.False(Directory.Exists(AuthDir) && Directory.EnumerateFileSystemEntries(AuthDir).Any());
    }

    private LoginContext PasteContext(StringWriter output, Func<CancellationToken, Task<string?>> readLine, int port) => new()
    {
        NoBrowser = true,
        CallbackPort = port,
        Http = new HttpClient(),
        Output = TextWriter.Synchronized(output),
        ReadLine = readLine,
        PasteAfter = TimeSpan.Zero,
        Timeout = TimeSpan.FromSeconds(30),
        Settings = Settings(),
    };

    private PluginSettings Settings() => new(JsonDocument.Parse(new JsonObject
    {
        ["auth-url"] = "https://auth.fake.test/oauth/authorize", ["token-url"] = _tokens.Url("/oauth/token"),
    }.ToJsonString()).RootElement.Clone(), default);

    [Fact]
    public async Task No_browser_login_accepts_the_pasted_redirect_URL_and_team_accounts_get_a_workspace_hash()
    {
        _tokens.Enqueue(Tokens(IdToken(plan: "team", account: "acct-team")).Reply);
        var output = new StringWriter();
        var pasted = false;
        async Task<string?> ReadLine(CancellationToken ct)
        {
            if (pasted) { await Task.Delay(Timeout.Infinite, ct); return null; }
            pasted = true;
            var text = output.ToString();
            var url = new Uri(text[text.IndexOf("https://auth.fake.test", StringComparison.Ordinal)..].Split('\n')[0].Trim());
            return $"http://localhost:1455/auth/callback?code=pasted-code1&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}";
        }

        var result = await Authenticator.LoginAsync(PasteContext(output, ReadLine, FreePort()), CancellationToken.None);

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("acct-team"u8.ToArray()))[..8];
        Assert.Equal($"codex-{hash}-a@b.test-team.json", result.FileName);
        Assert.Equal("acct-team", (string?)result.Content["account_id"]);
        Assert.Equal("pasted-code1", FakeTokenEndpoint.Form(Assert.Single(_tokens.Requests))["code"]);
    }

    private static CredentialRecord Stored(string refreshToken = "rt-old-123456") => new()
    {
        Id = "codex-a@b.test.json", Type = "codex", Provider = "codex", Label = "a@b.test", Source = CredentialSource.File,
        Metadata = JsonDocument.Parse(new JsonObject
        {
            ["type"] = "codex", ["access_token"] = "at-old-123456", ["refresh_token"] = refreshToken, ["id_token"] = "old", ["account_id"] = "acct-9",
            ["email"] = "a@b.test", ["prefix"] = "team1", ["expired"] = "2026-01-02T00:00:00Z",
        }.ToJsonString()).RootElement.Clone(),
    };

    [Fact]
    public async Task Refresh_posts_a_form_and_returns_the_updated_file()
    {
        _tokens.Enqueue(Tokens(IdToken(account: "acct-10"), "at-new-123456", "rt-new-123456").Reply);
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        using var http = new HttpClient();

        var json = await Authenticator.RefreshAsync(new RefreshContext { Credential = Stored(), Http = http, Settings = Settings(), Clock = clock }, CancellationToken.None);

        var form = FakeTokenEndpoint.Form(Assert.Single(_tokens.Requests));
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal("rt-old-123456", form["refresh_token"]);
        Assert.Equal("app_EMoamEEZ73f0CkXaXp7hrann", form["client_id"]);
        Assert.Equal("openid profile email", form["scope"]);
        Assert.Equal("at-new-123456", (string?)json["access_token"]);
        Assert.Equal("rt-new-123456", (string?)json["refresh_token"]);
        Assert.Equal("acct-10", (string?)json["account_id"]);
        Assert.Equal("team1", (string?)json["prefix"]); // the file's other fields stay
        Assert.Equal("2026-03-11T00:00:00Z", (string?)json["expired"]);
        Assert.Equal("2026-03-01T00:00:00Z", (string?)json["last_refresh"]);
    }

    [Fact]
    public async Task A_rejected_refresh_token_means_a_new_login()
    {
        _tokens.Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "refresh token revoked"));
        using var http = new HttpClient();

        var e = await Assert.ThrowsAsync<LoginRequiredException>(() =>
            Authenticator.RefreshAsync(new RefreshContext { Credential = Stored(), Http = http, Settings = Settings() }, CancellationToken.None));

        Assert.DoesNotContain("rt-old-123456", e.Message);
    }
}
