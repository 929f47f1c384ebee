using System.Text.Json.Nodes;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Management;

public sealed class LoginAndLogEndpointsTests
{
    // A plugin whose login is the SDK's authorization-code flow plus a token exchange at a URL from its settings.
    private static readonly Lazy<byte[]> Plugin = new(() => TestPluginCompiler.Compile("TestWebLogin", "1.0.0", """
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Sdk.Execution;
        using PluginProxy.Sdk.OAuth;

        namespace TestWebLogin;

        public sealed class Provider : IProviderPlugin
        {
            public string Id => "weblogin";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "weblogin" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("web-model") };
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
                var request = new AuthorizationRequest { AuthorizeUrl = "https://auth.invalid/authorize", ClientId = "web-client", DisplayName = "WebLogin" };
                var code = await AuthorizationCodeFlow.RunAsync(context, request, cancellationToken);
                var client = new OAuthTokenClient(context.Settings.GetString("token-url", "https://auth.invalid/token"), "web-client", TokenBodyFormat.Json);
                var tokens = await client.ExchangeCodeAsync(context.Http, code, null, cancellationToken);
                var email = (string?)tokens.Raw["account"]?["email_address"] ?? "unknown";
                var content = new JsonObject
                {
                    ["type"] = "weblogin", ["email"] = email, ["access_token"] = tokens.AccessToken, ["refresh_token"] = tokens.RefreshToken,
                    ["project"] = context.Options.TryGetValue("project-id", out var project) ? project : null,
                };
                return new LoginResult($"weblogin-{email}.json", content, email);
            }

            public Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
        }
        """));

    [Fact]
    public async Task A_web_login_returns_the_url_and_state_takes_the_posted_redirect_and_writes_the_credential()
    {
        await using var tokens = await FakeTokenEndpoint.StartAsync();
        tokens.Enqueue(FakeTokenEndpoint.Tokens("at-web-1", "rt-web-1"));
        await using var server = await ManagementServer.StartAsync($"providers:\n  weblogin:\n    token-url: \"{tokens.Url()}\"\n",
            prepare: root => TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestWebLogin", Plugin.Value));

        var start = await server.GetAsync("/weblogin-auth-url?project_id=p-1");
        Assert.Equal(200, start.Status);
        var url = new Uri((string)start.Body!["url"]!);
        var state = (string)start.Body["state"]!;
        Assert.Equal("auth.invalid", url.Host);
        Assert.Equal(state, FakeBrowser.Param(url, "state"));
        Assert.Equal("wait", (string?)(await server.GetAsync($"/get-auth-status?state={Uri.EscapeDataString(state)}")).Body!["status"]);

        Assert.Equal(404, (await server.PostAsync("/oauth-callback", """{"provider":"weblogin","code":"c","state":"unknown-state"}""")).Status);
        Assert.Equal(400, (await server.PostAsync("/oauth-callback", """{"provider":"weblogin"}""")).Status);
        var redirect = $"{FakeBrowser.Param(url, "redirect_uri")}?code=web-code-1&state={Uri.EscapeDataString(state)}";
        Assert.Equal(200, (await server.PostAsync("/oauth-callback", new JsonObject { ["provider"] = "weblogin", ["redirect_url"] = redirect }.ToJsonString())).Status);

        JsonNode? done = null;
        await TestServer.EventuallyAsync(async () =>
        {
            done = (await server.GetAsync($"/get-auth-status?state={Uri.EscapeDataString(state)}")).Body;
            return (string?)done!["status"] != "wait";
        }, "the login finishes");
        Assert.Equal("ok", (string?)done!["status"]);
        var path = Path.Combine(server.Server.AuthDir, "weblogin-a@b.test.json");
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal(("at-web-1", "p-1"), ((string?)saved["access_token"], (string?)saved["project"]));
        Assert.Equal("web-code-1", (string?)JsonNode.Parse(tokens.Requests.Single().BodyText)!["code"]);
        Assert.Contains(server.Server.Server.Credentials.Current.All, c => c.Id == "weblogin-a@b.test.json");
        Assert.Equal(409, (await server.PostAsync("/oauth-callback", new JsonObject { ["redirect_url"] = redirect }.ToJsonString())).Status);
        Assert.DoesNotContain("at-web-1", server.Server.Logs);
    }

    [Fact]
    public async Task An_unknown_provider_is_400_and_status_needs_a_state()
    {
        await using var server = await ManagementServer.StartAsync();
        var unknown = await server.GetAsync("/nosuch-auth-url");
        Assert.Equal(400, unknown.Status);
        Assert.Contains("nosuch", (string?)unknown.Body!["error"]);
        Assert.Equal(400, (await server.GetAsync("/get-auth-status")).Status);
        var twice = await server.GetAsync("/claude-auth-url?project_id=a&project-id=b");
        Assert.Equal(400, twice.Status);
        Assert.Contains("more than once", (string?)twice.Body!["error"]);
    }

    [Fact]
    public async Task Logs_need_logging_to_file_and_then_list_filter_limit_and_clear()
    {
        await using var server = await ManagementServer.StartAsync();
        var off = await server.GetAsync("/logs");
        Assert.Equal(400, off.Status);
        Assert.Equal(200, (await server.PutAsync("/logging-to-file", """{"value":true}""")).Status);
        await server.GetAsync("/debug"); // something to log
        JsonNode? logs = null;
        await TestServer.EventuallyAsync(async () =>
        {
            logs = (await server.GetAsync("/logs")).Body;
            return logs!["lines"]!.AsArray().Any(l => ((string?)l)!.Contains("/v0/management/debug"));
        }, "the request reaches the log file");
        Assert.True((long)logs!["latest-timestamp"]! > 0);
        Assert.True((int)logs["line-count"]! >= logs["lines"]!.AsArray().Count);
        Assert.Single((await server.GetAsync("/logs?limit=1")).Body!["lines"]!.AsArray());
        Assert.Empty((await server.GetAsync($"/logs?after={DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}")).Body!["lines"]!.AsArray());
        Assert.Equal(400, (await server.GetAsync("/logs?limit=zero")).Status);
        Assert.Equal(400, (await server.GetAsync("/logs?after=yesterday")).Status);
        Assert.DoesNotContain(ManagementServer.Key, logs.ToJsonString());

        var cleared = await server.DeleteAsync("/logs");
        Assert.True((bool?)cleared.Body!["success"]);
        Assert.Empty((await server.GetAsync("/request-error-logs")).Body!["files"]!.AsArray());
    }
}
