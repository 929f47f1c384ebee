using System.Text.Json.Nodes;
using PluginProxy.Host.Cli;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Cli;

/// <summary>
/// <c>login</c> end to end: a test plugin whose login is the SDK's authorization-code flow plus token exchange against a
/// fake token endpoint named in its settings; the test plays the browser.
/// </summary>
public sealed class LoginCommandTests : IAsyncLifetime
{
    private static readonly Lazy<byte[]> Plugin = new(() => TestPluginCompiler.Compile("TestOAuthLogin", "1.0.0", """
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Sdk.Execution;
        using PluginProxy.Sdk.OAuth;

        namespace TestOAuthLogin;

        public sealed class Provider : IProviderPlugin
        {
            public string Id => "oauthtest";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "oauthtest" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("oauth-model") };
            public IExecutor Executor { get; } = new Executor();
            public IAuthenticator? Authenticator { get; } = new Authenticator();
        }

        internal sealed class Executor() : DialectHttpExecutor(Dialect.OpenAIChat)
        {
            protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query) =>
                throw new NotSupportedException();
        }

        internal sealed class Authenticator : IAuthenticator
        {
            public TimeSpan? RefreshLead => null;

            public async Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken)
            {
                var request = new AuthorizationRequest
                {
                    AuthorizeUrl = context.Settings.GetString("authorize-url", "https://auth.invalid/authorize"),
                    ClientId = "test-client",
                    DisplayName = "OAuthTest",
                };
                var code = await AuthorizationCodeFlow.RunAsync(context, request, cancellationToken);
                var client = new OAuthTokenClient(context.Settings.GetString("token-url", "https://auth.invalid/token"), "test-client", TokenBodyFormat.Json);
                var tokens = await client.ExchangeCodeAsync(context.Http, code, null, cancellationToken);
                var email = (string?)tokens.Raw["account"]?["email_address"] ?? "unknown";
                var content = new JsonObject
                {
                    ["type"] = "oauthtest", ["email"] = email, ["access_token"] = tokens.AccessToken, ["refresh_token"] = tokens.RefreshToken,
                    ["team"] = context.Options.TryGetValue("team", out var team) ? team : null,
                    ["verbose"] = context.Options.TryGetValue("verbose", out var verbose) ? verbose : null,
                };
                return new LoginResult($"oauthtest-{email}.json", content, email);
            }

            public Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
        }
        """));

    private readonly string _dir = Directory.CreateTempSubdirectory("pluginproxy-login-").FullName;
    private FakeTokenEndpoint _tokens = null!;

    private string AuthDir => Path.Combine(_dir, "auths");
    private string ConfigPath => Path.Combine(_dir, "config.yaml");

    public async Task InitializeAsync()
    {
        _tokens = await FakeTokenEndpoint.StartAsync();
        TestPluginCompiler.Deploy(Path.Combine(_dir, "plugins"), "TestOAuthLogin", Plugin.Value);
        await File.WriteAllTextAsync(ConfigPath, $"""
            auth-dir: "{AuthDir}"
            plugins:
              folder: "{Path.Combine(_dir, "plugins")}"
            providers:
              oauthtest:
                token-url: "{_tokens.Url()}"
            """);
    }

    public async Task DisposeAsync()
    {
        await _tokens.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private (Terminal Terminal, StringWriter Out, StringWriter Error) NewTerminal(FakeBrowser browser)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // No terminal input: only the browser's callback can finish the login.
        return (new Terminal { Out = TextWriter.Synchronized(output), Error = error, OpenBrowser = browser.Open, ReadLine = _ => Task.FromResult<string?>(null) },
            output, error);
    }

    private static string StateOf(Uri url) => Uri.EscapeDataString(FakeBrowser.Param(url, "state"));

    [Fact]
    public async Task A_successful_login_writes_the_credential_with_mode_0600_and_passes_options_and_settings()
    {
        _tokens.Enqueue(FakeTokenEndpoint.Tokens("at-login-1", "rt-login-1"));
        var browser = new FakeBrowser();
        var (terminal, output, error) = NewTerminal(browser);

        var run = Commands.RunAsync(["login", "oauthtest", "--config", ConfigPath, "--team", "blue", "--verbose"], terminal);
        using var page = await browser.RedirectAsync(url => $"code=c1&state={StateOf(url)}");

        Assert.Equal(0, await run);
        Assert.Equal("", error.ToString());
        var path = Path.Combine(AuthDir, "oauthtest-a@b.test.json");
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal("at-login-1", (string?)saved["access_token"]);
        Assert.Equal("rt-login-1", (string?)saved["refresh_token"]);
        Assert.Equal("blue", (string?)saved["team"]);
        Assert.Equal("true", (string?)saved["verbose"]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFiles(AuthDir)); // no temp file left behind
        Assert.Single(_tokens.Requests); // the token URL came from providers.oauthtest
        Assert.Contains("Logged in as a@b.test", output.ToString());
        Assert.DoesNotContain("at-login-1", output.ToString());
    }

    [Fact]
    public async Task Denied_consent_writes_nothing_and_exits_1_with_one_clear_message()
    {
        var browser = new FakeBrowser();
        var (terminal, _, error) = NewTerminal(browser);

        var run = Commands.RunAsync(["login", "oauthtest", "--config", ConfigPath], terminal);
        using var page = await browser.RedirectAsync(url => $"error=access_denied&state={StateOf(url)}");

        Assert.Equal(1, await run);
        Assert.Equal("Login failed: consent was denied in the browser (access_denied)", error.ToString().Trim());
        Assert.False(Directory.Exists(AuthDir) && Directory.EnumerateFileSystemEntries(AuthDir).Any());
        Assert.Empty(_tokens.Requests);
    }

    [Fact]
    public async Task A_rejected_code_writes_nothing()
    {
        _tokens.Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "code already used"));
        var browser = new FakeBrowser();
        var (terminal, _, error) = NewTerminal(browser);

        var run = Commands.RunAsync(["-config", ConfigPath, "login", "oauthtest"], terminal);
        using var page = await browser.RedirectAsync(url => $"code=c-used&state={StateOf(url)}");

        Assert.Equal(1, await run);
        Assert.StartsWith("Login failed: code exchange failed: HTTP 400: invalid_grant: code already used", error.ToString());
        Assert.DoesNotContain("c-used", error.ToString());
        Assert.False(Directory.Exists(AuthDir) && Directory.EnumerateFileSystemEntries(AuthDir).Any());
    }
}
