using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Cli;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Qwen;

/// <summary><c>login qwen</c> (device code with PKCE) and the refresh, against a fake chat.qwen.ai on loopback.</summary>
public sealed class QwenLoginTests
{
    private static readonly HttpClient Http = new();

    private static IAuthenticator Authenticator => BuiltPlugins.Qwen.Authenticator!;

    private static FakeReply DeviceCode(double interval = 5, int expiresIn = 900) => FakeReply.Json(new JsonObject
    {
        ["device_code"] = "qwen-device-code", ["user_code"] = "QW-1234", ["verification_uri"] = "https://chat.qwen.ai/authorize",
        ["verification_uri_complete"] = "https://chat.qwen.ai/authorize?user_code=QW-1234&client=qwen-code", ["expires_in"] = expiresIn, ["interval"] = interval,
    });

    private static FakeReply QwenTokens(string access = "qwen-at-1", string refresh = "qwen-rt-1", string? resource = "portal.qwen.ai") =>
        FakeReply.Json(new JsonObject
        {
            ["access_token"] = access, ["refresh_token"] = refresh, ["token_type"] = "Bearer", ["expires_in"] = 21600, ["resource_url"] = resource,
        });

    private static PluginSettings Settings(FakeTokenEndpoint fake) =>
        BuiltPlugins.Settings(("device-code-url", fake.Url("/api/v1/oauth2/device/code")), ("token-url", fake.Url("/api/v1/oauth2/token")));

    private static (LoginContext Context, AutoAdvanceClock Clock, StringWriter Output, List<string> Opened) Context(FakeTokenEndpoint fake,
        Dictionary<string, string>? options = null, Func<CancellationToken, Task<string?>>? readLine = null)
    {
        var clock = new AutoAdvanceClock();
        var output = new StringWriter();
        var opened = new List<string>();
        return (new LoginContext
        {
            Http = Http, Output = output, Clock = clock, Settings = Settings(fake), ReadLine = readLine,
            Options = options ?? new Dictionary<string, string> { ["email"] = "dev@example.test" },
            OpenBrowser = u =>
            {
                opened.Add(u);
                return true;
            },
        }, clock, output, opened);
    }

    [Fact]
    public async Task Pending_twice_and_slow_down_once_then_the_login_writes_a_qwen_file()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            DeviceCode(),
            FakeTokenEndpoint.OAuthError(400, "authorization_pending"),
            FakeTokenEndpoint.OAuthError(400, "authorization_pending"),
            FakeTokenEndpoint.OAuthError(400, "slow_down"),
            QwenTokens());
        var (context, clock, output, opened) = Context(fake);

        var result = await Authenticator.LoginAsync(context, CancellationToken.None);

        Assert.Equal("qwen-dev@example.test.json", result.FileName);
        Assert.Equal("dev@example.test", result.Label);
        var file = result.Content;
        Assert.Equal("qwen", (string?)file["type"]);
        Assert.Equal("qwen-at-1", (string?)file["access_token"]);
        Assert.Equal("qwen-rt-1", (string?)file["refresh_token"]);
        Assert.Equal("portal.qwen.ai", (string?)file["resource_url"]);
        Assert.Equal("dev@example.test", (string?)file["email"]);
        // The answer came after 5+5+5+10 s on the login clock; the token lives 6 h from then.
        Assert.Equal("2026-01-01T06:00:25Z", (string?)file["expired"]);
        Assert.Equal("2026-01-01T00:00:25Z", (string?)file["last_refresh"]);
        Assert.Equal([5, 5, 5, 10], clock.Waits.Select(w => w.TotalSeconds));

        Assert.Equal(["https://chat.qwen.ai/authorize?user_code=QW-1234&client=qwen-code"], opened);
        var text = output.ToString();
        Assert.Contains("open https://chat.qwen.ai/authorize and enter the code QW-1234", text);
        Assert.Contains("left", text);
        Assert.DoesNotContain("qwen-at-1", text);
        Assert.DoesNotContain("qwen-device-code", text);

        var device = FakeTokenEndpoint.Form(fake.Requests[0]);
        Assert.Equal("/api/v1/oauth2/device/code", fake.Requests[0].Path);
        Assert.Equal("f0304373b74a44d2b584a3fb70ca9e56", device["client_id"]);
        Assert.Equal("openid profile email model.completion", device["scope"]);
        Assert.Equal("S256", device["code_challenge_method"]);
        var poll = FakeTokenEndpoint.Form(fake.Requests[^1]);
        Assert.Equal("/api/v1/oauth2/token", fake.Requests[^1].Path);
        Assert.Equal("urn:ietf:params:oauth:grant-type:device_code", poll["grant_type"]);
        Assert.Equal("qwen-device-code", poll["device_code"]);
        Assert.Equal(device["code_challenge"], Pkce.ChallengeFor(poll["code_verifier"]));
    }

    [Theory]
    [InlineData("expired_token", "expired before it was approved")]
    [InlineData("access_denied", "denied in the browser")]
    public async Task An_expired_or_denied_code_fails_the_login(string error, string message)
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            DeviceCode(), FakeTokenEndpoint.OAuthError(400, "authorization_pending"), FakeTokenEndpoint.OAuthError(400, error));
        var (context, _, _, _) = Context(fake);

        var e = await Assert.ThrowsAsync<OAuthException>(() => Authenticator.LoginAsync(context, CancellationToken.None));

        Assert.Contains(message, e.Message);
        Assert.Contains("Qwen", e.Message);
        Assert.Equal(3, fake.Requests.Count);
    }

    [Fact]
    public async Task Without_email_the_account_name_is_asked_for()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(DeviceCode(), QwenTokens());
        var lines = new Queue<string?>(["", "  alias-one  "]);
        var (context, _, output, _) = Context(fake, options: [], readLine: _ => Task.FromResult(lines.Dequeue()));

        var result = await Authenticator.LoginAsync(context, CancellationToken.None);

        Assert.Equal("qwen-alias-one.json", result.FileName);
        Assert.Equal("alias-one", (string?)result.Content["email"]);
        Assert.Contains("email address or alias", output.ToString());
    }

    [Fact]
    public async Task Without_email_and_without_a_terminal_the_login_says_what_to_pass()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(DeviceCode(), QwenTokens());
        var (context, _, _, _) = Context(fake, options: []);

        var e = await Assert.ThrowsAsync<OAuthException>(() => Authenticator.LoginAsync(context, CancellationToken.None));

        Assert.Contains("--email", e.Message);
    }

    [Fact]
    public async Task Login_qwen_on_the_command_line_writes_the_file_with_mode_0600()
    {
        var dir = Directory.CreateTempSubdirectory("pluginproxy-qwen-login-").FullName;
        try
        {
            // A sub-second interval keeps the real-clock poll short; nothing is asserted about time.
            await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
                DeviceCode(interval: 0.05), FakeTokenEndpoint.OAuthError(400, "authorization_pending"), QwenTokens());
            var config = Path.Combine(dir, "config.yaml");
            await File.WriteAllTextAsync(config, $"""
                auth-dir: "{Path.Combine(dir, "auths")}"
                plugins:
                  folder: "{BuiltPlugins.Folder}"
                providers:
                  qwen:
                    device-code-url: "{fake.Url("/device")}"
                    token-url: "{fake.Url("/token")}"
                """);
            var output = new StringWriter();
            var error = new StringWriter();
            var terminal = new Terminal { Out = TextWriter.Synchronized(output), Error = error, OpenBrowser = _ => true, ReadLine = _ => Task.FromResult<string?>(null) };

            var exit = await Commands.RunAsync(["login", "qwen", "--config", config, "--email", "cli@example.test"], terminal);

            Assert.True(exit == 0, error.ToString());
            var path = Path.Combine(dir, "auths", "qwen-cli@example.test.json");
            var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
            Assert.Equal("qwen", (string?)saved["type"]);
            Assert.Equal("qwen-at-1", (string?)saved["access_token"]);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.DoesNotContain("qwen-at-1", output.ToString());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static CredentialRecord Credential(string json) => new()
    {
        Id = "qwen-dev.json", Type = "qwen", Provider = "qwen", Label = "dev", Metadata = JsonDocument.Parse(json).RootElement.Clone(),
    };

    [Fact]
    public async Task Refresh_uses_the_refresh_token_and_keeps_the_new_resource_url()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(QwenTokens("qwen-at-2", "qwen-rt-2", "dashscope.example.test"));
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var context = new RefreshContext
        {
            Credential = Credential("""{"type":"qwen","email":"dev","access_token":"old","refresh_token":"qwen-rt-1","resource_url":"portal.qwen.ai","prefix":"team"}"""),
            Http = Http, Clock = clock, Settings = Settings(fake),
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        Assert.Equal(TimeSpan.FromHours(3), Authenticator.RefreshLead);
        var form = FakeTokenEndpoint.Form(Assert.Single(fake.Requests));
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal("qwen-rt-1", form["refresh_token"]);
        Assert.Equal("f0304373b74a44d2b584a3fb70ca9e56", form["client_id"]);
        Assert.StartsWith("application/x-www-form-urlencoded", fake.Requests[0].Header("Content-Type"));
        Assert.Equal("qwen-at-2", (string?)file["access_token"]);
        Assert.Equal("qwen-rt-2", (string?)file["refresh_token"]);
        Assert.Equal("dashscope.example.test", (string?)file["resource_url"]);
        Assert.Equal("2026-03-01T18:00:00Z", (string?)file["expired"]);
        Assert.Equal("2026-03-01T12:00:00Z", (string?)file["last_refresh"]);
        Assert.Equal("team", (string?)file["prefix"]); // the operator's own fields survive
    }

    [Fact]
    public async Task A_refresh_answer_without_expires_in_keeps_the_previous_expiry()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeReply.Json(new JsonObject { ["access_token"] = "qwen-at-3", ["token_type"] = "Bearer" }));
        var context = new RefreshContext
        {
            Credential = Credential("""{"type":"qwen","email":"dev","access_token":"old","refresh_token":"qwen-rt-1","expired":"2026-03-01T18:00:00Z"}"""),
            Http = Http, Settings = Settings(fake),
        };

        var file = await Authenticator.RefreshAsync(context, CancellationToken.None);

        Assert.Equal("qwen-at-3", (string?)file["access_token"]);
        Assert.Equal("2026-03-01T18:00:00Z", (string?)file["expired"]); // not blanked: the host still knows when to refresh
    }

    [Fact]
    public async Task A_rejected_refresh_token_means_a_new_login()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "refresh token expired"));
        var context = new RefreshContext
        {
            Credential = Credential("""{"type":"qwen","access_token":"old","refresh_token":"qwen-rt-dead"}"""), Http = Http, Settings = Settings(fake),
        };

        var e = await Assert.ThrowsAsync<LoginRequiredException>(() => Authenticator.RefreshAsync(context, CancellationToken.None));

        Assert.Contains("invalid_grant", e.Message);
        Assert.DoesNotContain("qwen-rt-dead", e.Message);
    }
}
