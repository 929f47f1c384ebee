using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Management;

public sealed class AuthFileEndpointsTests
{
    private const string Chat = """{"model":"tok-model","messages":[{"role":"user","content":"hi"}]}""";

    private static string Answer(string body) => (string?)JsonNode.Parse(body)!["choices"]?[0]?["message"]?["content"] ?? body;

    [Fact]
    public async Task A_cooling_credential_shows_its_reason_and_end_and_a_reset_makes_it_serve_at_once()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        var quota = true;
        upstream.RespondWith(request =>
        {
            var token = request.Header("Authorization")!["Bearer ".Length..];
            return token == "tok-a" && quota
                ? FakeReply.Error(429, """{"error":{"message":"quota exhausted for this hour","type":"rate_limit_error"}}""",
                    new Dictionary<string, string> { ["Retry-After"] = "600" })
                : ChatReply.Text($"served with {token}");
        });
        await using var server = await ManagementServer.StartAsync("routing:\n  strategy: fill-first\n", prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestTokened", TokenPlugin.Compile());
            File.WriteAllText(Path.Combine(root, "auths", "tokened-a.json"), TokenPlugin.Credential("tok-a", upstream.BaseUrl, "http://127.0.0.1:9/token"));
            File.WriteAllText(Path.Combine(root, "auths", "tokened-b.json"), TokenPlugin.Credential("tok-b", upstream.BaseUrl, "http://127.0.0.1:9/token"));
        });
        using (var first = await server.Server.PostJsonAsync("/v1/chat/completions", Chat))
            Assert.Equal("served with tok-b", Answer(await first.Content.ReadAsStringAsync()));

        var files = (await server.GetAsync("/auth-files")).Body!["files"]!.AsArray();
        var a = files.Single(f => (string?)f!["name"] == "tokened-a.json")!;
        Assert.Equal("cooling", (string?)a["status"]);
        var cooldown = a["cooldowns"]!.AsArray().Single()!;
        Assert.Equal("tok-model", (string?)cooldown["model"]);
        Assert.Contains("quota exhausted for this hour", (string?)cooldown["reason"]);
        Assert.Equal(429, (int?)cooldown["status_code"]);
        var until = DateTimeOffset.Parse((string)cooldown["until"]!);
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
        Assert.Contains("quota exhausted", (string?)a["status_message"]);
        Assert.Equal("active", (string?)files.Single(f => (string?)f!["name"] == "tokened-b.json")!["status"]);
        Assert.Equal("tokened-a.json", (string?)(await server.GetAsync("/cooldowns")).Body!["cooldowns"]![0]!["auth_index"]);

        // The quota is back early (the user knows); without a reset A stays skipped, after one it serves the next request.
        quota = false;
        using (var still = await server.Server.PostJsonAsync("/v1/chat/completions", Chat))
            Assert.Equal("served with tok-b", Answer(await still.Content.ReadAsStringAsync()));
        Assert.Equal(404, (await server.PostAsync("/reset-quota", """{"auth_index":"nope.json"}""")).Status);
        var reset = await server.PostAsync("/reset-quota", """{"auth_index":"tokened-a.json"}""");
        Assert.Equal(200, reset.Status);
        Assert.Equal(1, (int?)reset.Body!["cleared"]);
        using (var after = await server.Server.PostJsonAsync("/v1/chat/completions", Chat))
            Assert.Equal("served with tok-a", Answer(await after.Content.ReadAsStringAsync()));
        Assert.Empty((await server.GetAsync("/cooldowns")).Body!["cooldowns"]!.AsArray());
        Assert.Equal(400, (await server.PostAsync("/reset-quota", "[1]")).Status);
    }

    [Fact]
    public async Task Session_affinity_bindings_show_per_credential_and_in_a_summary()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        upstream.RespondWith(request => ChatReply.Text($"served with {request.Header("Authorization")!["Bearer ".Length..]}"));
        await using var server = await ManagementServer.StartAsync("routing:\n  strategy: round-robin\n  session-affinity: true\n  session-affinity-ttl: 30m\n", prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestTokened", TokenPlugin.Compile());
            File.WriteAllText(Path.Combine(root, "auths", "tokened-a.json"), TokenPlugin.Credential("tok-a", upstream.BaseUrl, "http://127.0.0.1:9/token"));
            File.WriteAllText(Path.Combine(root, "auths", "tokened-b.json"), TokenPlugin.Credential("tok-b", upstream.BaseUrl, "http://127.0.0.1:9/token"));
        });
        var servedBy = new List<string>();
        foreach (var conversation in new[] { "first", "second", "third" })
        {
            using var answer = await server.Server.PostJsonAsync("/v1/chat/completions",
                $$"""{"model":"tok-model","messages":[{"role":"user","content":"conversation {{conversation}}"}]}""");
            servedBy.Add(Answer(await answer.Content.ReadAsStringAsync())["served with ".Length..]);
        }

        var files = (await server.GetAsync("/auth-files")).Body!["files"]!.AsArray();
        int Sessions(string token) => (int)files.Single(f => (string?)f!["name"] == $"tokened-{token[^1]}.json")!["sessions"]!;
        Assert.Equal(servedBy.Count(t => t == "tok-a"), Sessions("tok-a"));
        Assert.Equal(servedBy.Count(t => t == "tok-b"), Sessions("tok-b"));
        Assert.Equal(3, Sessions("tok-a") + Sessions("tok-b"));

        var summary = (await server.GetAsync("/session-affinity")).Body!;
        Assert.True((bool)summary["enabled"]!);
        Assert.Equal(1800, (long)summary["ttl_seconds"]!);
        Assert.Equal(3, (int)summary["sessions"]!);
        Assert.Equal(3, summary["credentials"]!.AsArray().Sum(c => (int)c!["sessions"]!));
        Assert.Equal(401, (await server.GetAsync("/session-affinity", key: null)).Status);
    }

    [Fact]
    public async Task Reset_by_model_clears_that_model_on_every_credential()
    {
        await using var server = await ManagementServer.StartAsync();
        var scheduler = (PluginProxy.Host.Scheduling.Scheduler)server.Server.Server.Services.GetService(typeof(PluginProxy.Host.Scheduling.Scheduler))!;
        var until = DateTimeOffset.UtcNow.AddMinutes(5);
        scheduler.Book.Set("c1", "m1", new(until, PluginProxy.Abstractions.Upstream.FailureKind.Quota, 429, 0, "q"));
        scheduler.Book.Set("c2", "m1", new(until, PluginProxy.Abstractions.Upstream.FailureKind.Quota, 429, 0, "q"));
        scheduler.Book.Set("c2", "m2", new(until, PluginProxy.Abstractions.Upstream.FailureKind.Quota, 429, 0, "q"));
        Assert.Equal(3, (await server.GetAsync("/cooldowns")).Body!["cooldowns"]!.AsArray().Count);
        Assert.Equal(2, (int?)(await server.PostAsync("/reset-quota", """{"model":"m1"}""")).Body!["cleared"]);
        Assert.Equal("m2", (string?)(await server.GetAsync("/cooldowns")).Body!["cooldowns"]![0]!["model"]);
        Assert.Equal(200, (await server.DeleteAsync("/cooldowns")).Status);
        Assert.Empty((await server.GetAsync("/cooldowns")).Body!["cooldowns"]!.AsArray());
    }

    [Fact]
    public async Task Upload_list_download_disable_and_delete_an_auth_file()
    {
        await using var server = await ManagementServer.StartAsync(prepare: root =>
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestTokened", TokenPlugin.Compile()));
        var content = TokenPlugin.Credential("tok-up", "http://127.0.0.1:9/", "http://127.0.0.1:9/token");

        // Raw body with ?name=
        var raw = await server.SendAsync(HttpMethod.Post, "/auth-files?name=uploaded.json", content);
        Assert.Equal(200, raw.Status);
        Assert.Contains(server.Server.Server.Credentials.Current.All, c => c.Id == "uploaded.json");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(server.Server.AuthDir, "uploaded.json")));

        // Multipart field "file"
        var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(content)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } }, "file", "second.json" } };
        var multipart = new HttpRequestMessage(HttpMethod.Post, "/v0/management/auth-files") { Content = form };
        multipart.Headers.Authorization = new("Bearer", ManagementServer.Key);
        using (var response = await server.Server.Client.SendAsync(multipart)) Assert.Equal(200, (int)response.StatusCode);

        var files = (await server.GetAsync("/auth-files")).Body!["files"]!.AsArray();
        Assert.Equal(["second.json", "uploaded.json"], files.Select(f => (string?)f!["name"]));
        var entry = files[1]!;
        Assert.Equal(("tokened", "active", false), ((string?)entry["type"], (string?)entry["status"], (bool?)entry["disabled"]));
        Assert.DoesNotContain("\"tok-up\"", files.ToJsonString()); // listings never show tokens

        var models = (await server.GetAsync("/auth-files/models?name=uploaded.json")).Body!["models"]!.AsArray();
        Assert.Equal("tok-model", (string?)models.Single()!["id"]);

        var download = await server.GetAsync("/auth-files/download?name=uploaded.json");
        Assert.Equal(200, download.Status);
        Assert.Equal("tok-up", (string?)download.Body!["access_token"]);
        Assert.Equal(400, (await server.GetAsync("/auth-files/download?name=../config.yaml")).Status);
        Assert.Equal(404, (await server.GetAsync("/auth-files/download?name=missing.json")).Status);

        var disable = await server.PatchAsync("/auth-files/status", """{"name":"uploaded.json","disabled":true}""");
        Assert.Equal(200, disable.Status);
        Assert.True((bool?)disable.Body!["disabled"]);
        Assert.True(server.Server.Server.Credentials.Current.ById["uploaded.json"].Disabled);
        Assert.True((bool?)JsonNode.Parse(File.ReadAllText(Path.Combine(server.Server.AuthDir, "uploaded.json")))!["disabled"]);
        Assert.Equal("disabled", (string?)(await server.GetAsync("/auth-files")).Body!["files"]![1]!["status"]);
        Assert.Equal(400, (await server.PatchAsync("/auth-files/status", """{"name":"uploaded.json"}""")).Status);
        Assert.Equal(404, (await server.PatchAsync("/auth-files/status", """{"name":"nope.json","disabled":false}""")).Status);

        Assert.Equal(200, (await server.DeleteAsync("/auth-files?name=uploaded.json")).Status);
        Assert.False(File.Exists(Path.Combine(server.Server.AuthDir, "uploaded.json")));
        Assert.DoesNotContain(server.Server.Server.Credentials.Current.All, c => c.Id == "uploaded.json");
        Assert.Equal(404, (await server.DeleteAsync("/auth-files?name=uploaded.json")).Status);
        Assert.Equal(400, (await server.DeleteAsync("/auth-files")).Status);
        var all = await server.DeleteAsync("/auth-files?all=true");
        Assert.Equal(1, (int?)all.Body!["deleted"]);
        Assert.Empty((await server.GetAsync("/auth-files")).Body!["files"]!.AsArray());
    }

    [Theory]
    [InlineData("/auth-files?name=bad.txt", "{\"type\":\"tokened\"}")]
    [InlineData("/auth-files?name=../escape.json", "{\"type\":\"tokened\"}")]
    [InlineData("/auth-files?name=x.json", "not json")]
    [InlineData("/auth-files?name=x.json", "{\"no\":\"type\"}")]
    public async Task Bad_uploads_are_400_and_nothing_is_written(string path, string body)
    {
        await using var server = await ManagementServer.StartAsync();
        var (status, reply, _) = await server.SendAsync(HttpMethod.Post, path, body);
        Assert.Equal(400, status);
        Assert.False(string.IsNullOrEmpty((string?)reply!["error"]));
        Assert.Empty(Directory.GetFiles(server.Server.AuthDir));
    }
}
