using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class AuthFailureTests
{
    [Fact]
    public async Task A_401_skips_the_account_refreshes_its_tokens_once_and_the_new_tokens_serve_again()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        upstream.RespondWith(request =>
        {
            var token = request.Header("Authorization")!["Bearer ".Length..];
            return token == "expired-a"
                ? FakeReply.Error(401, """{"error":{"message":"token expired","type":"invalid_request_error","code":"invalid_api_key"}}""")
                : ChatReply.Text($"served with {token}");
        });
        await using var tokenEndpoint = await FakeUpstreamHost.StartAsync(async (http, request) =>
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"access_token":"fresh-a","expires_in":3600}""");
        });
        var tokenUrl = tokenEndpoint.Root + "token";
        await using var server = await TestServer.StartAsync("routing:\n  strategy: fill-first\n", root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestTokened", TokenPlugin.Compile());
            File.WriteAllText(Path.Combine(root, "auths", "tokened-a.json"), TokenPlugin.Credential("expired-a", upstream.BaseUrl, tokenUrl));
            File.WriteAllText(Path.Combine(root, "auths", "tokened-b.json"), TokenPlugin.Credential("good-b", upstream.BaseUrl, tokenUrl));
        });
        const string chat = """{"model":"tok-model","messages":[{"role":"user","content":"hi"}]}""";

        using (var first = await server.PostJsonAsync("/v1/chat/completions", chat))
        {
            Assert.Equal(200, (int)first.StatusCode);
            Assert.Equal("served with good-b", (string?)JsonNode.Parse(await first.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]);
        }

        // The refresh ran once and rewrote the file; the new tokens end A's cooldown, so fill-first is back on A.
        await TestServer.EventuallyAsync(async () =>
        {
            using var response = await server.PostJsonAsync("/v1/chat/completions", chat);
            return (await response.Content.ReadAsStringAsync()).Contains("served with fresh-a");
        }, "A serves with its refreshed token");
        var refreshes = tokenEndpoint.Requests.Where(r => r.Path == "/token").ToList();
        Assert.Single(refreshes);
        Assert.Contains("refresh_token=refresh-expired-a", refreshes[0].BodyText);
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(server.AuthDir, "tokened-a.json")))!;
        Assert.Equal("fresh-a", (string?)file["access_token"]);
        Assert.Equal("refresh-expired-a", (string?)file["refresh_token"]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(server.AuthDir, "tokened-a.json")));
        Assert.DoesNotContain("fresh-a", server.Logs);
        Assert.DoesNotContain("expired-a\"", server.Logs);
    }

    [Fact]
    public async Task Concurrent_401s_for_one_account_refresh_it_only_once()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        var release = new TaskCompletionSource();
        upstream.RespondWith(request => request.Header("Authorization") == "Bearer expired-a"
            ? FakeReply.Error(401, """{"error":{"message":"token expired","type":"invalid_request_error"}}""")
            : ChatReply.Text("ok"));
        await using var tokenEndpoint = await FakeUpstreamHost.StartAsync(async (http, request) =>
        {
            await release.Task; // keep the first refresh running while the other 401s arrive
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"access_token":"fresh-a"}""");
        });
        await using var server = await TestServer.StartAsync("routing:\n  strategy: fill-first\n", root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestTokened", TokenPlugin.Compile());
            File.WriteAllText(Path.Combine(root, "auths", "tokened-a.json"), TokenPlugin.Credential("expired-a", upstream.BaseUrl, tokenEndpoint.Root + "token"));
            File.WriteAllText(Path.Combine(root, "auths", "tokened-b.json"), TokenPlugin.Credential("good-b", upstream.BaseUrl, tokenEndpoint.Root + "token"));
        });

        var requests = Enumerable.Range(0, 8).Select(_ => server.PostJsonAsync("/v1/chat/completions", """{"model":"tok-model","messages":[]}""")).ToList();
        foreach (var response in await Task.WhenAll(requests)) Assert.Equal(200, (int)response.StatusCode);
        release.SetResult();

        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(Path.Combine(server.AuthDir, "tokened-a.json"))).Contains("fresh-a"), "the refresh is saved");
        Assert.Single(tokenEndpoint.Requests, r => r.Path == "/token");
    }
}
