using System.Text.Json.Nodes;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary>The real server refreshes a Claude OAuth account ahead of expiry, and parks one whose refresh token was revoked.</summary>
public sealed class ClaudeRefreshTests
{
    private static async Task<TestServer> StartAsync(FakeTokenEndpoint tokens, string file) =>
        await TestServer.StartAsync($"""
            providers:
              claude:
                token-url: "{tokens.Url("/v1/oauth/token")}"
            """, root => File.WriteAllText(Path.Combine(root, "auths", "claude-me@example.test.json"), file),
            pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

    private static string Credential(DateTimeOffset expired) => new JsonObject
    {
        ["type"] = "claude", ["email"] = "me@example.test", ["access_token"] = "sk-ant-oat01-old", ["refresh_token"] = "sk-ant-ort01-old",
        ["expired"] = expired.ToString("yyyy-MM-ddTHH:mm:sszzz"),
    }.ToJsonString();

    [Fact]
    public async Task A_token_expiring_within_four_hours_is_refreshed_with_no_request_arriving()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens("sk-ant-oat01-new", "sk-ant-ort01-new", 28800));
        await using var server = await StartAsync(tokens, Credential(DateTimeOffset.UtcNow.AddHours(3)));
        var path = Path.Combine(server.AuthDir, "claude-me@example.test.json");

        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(path)).Contains("sk-ant-oat01-new"), "the file holds the new access token");
        var request = JsonNode.Parse(Assert.Single(tokens.Requests).BodyText)!;
        Assert.Equal("refresh_token", (string?)request["grant_type"]);
        Assert.Equal("sk-ant-ort01-old", (string?)request["refresh_token"]);
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal("claude", (string?)saved["type"]);
        Assert.True(DateTimeOffset.Parse((string)saved["expired"]!) > DateTimeOffset.UtcNow.AddHours(7));
    }

    [Fact]
    public async Task A_revoked_refresh_token_puts_the_account_in_needs_login_and_stops_trying()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_grant", "Refresh token not found or invalid"));
        await using var server = await StartAsync(tokens, Credential(DateTimeOffset.UtcNow.AddHours(1)));

        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("login claude")), "the needs-login warning names the command");
        using var response = await server.PostJsonAsync("/v1/messages", """{"model":"claude-sonnet-4-5-20250929","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(503, (int)response.StatusCode);
        Assert.Contains("login claude", await response.Content.ReadAsStringAsync());
        Assert.Single(tokens.Requests); // not retried in a loop
        Assert.DoesNotContain("sk-ant-ort01-old", server.Logs);
    }
}
