using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Host.UsageStatistics;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.UsageStatistics;

/// <summary>Usage statistics of the real server, with a fake OpenAI-compatible upstream and the built-in plugins.</summary>
public sealed class UsageEndToEndTests
{
    private const string KeyOne = "sk-usage-client-one";
    private const string KeyTwo = "sk-usage-client-two";
    private static readonly FakeUsage Tokens = new(100, 20, Cached: 30, Reasoning: 5);

    private static string Config(FakeOpenAIUpstream upstream, string database, string extra = "") => $"""
        api-keys: ["{KeyOne}", "{KeyTwo}"]
        usage-statistics-database: "{database}"
        openai-compatibility:
          - name: "u"
            base-url: "{upstream.BaseUrl}"
            models: [{"{"}name: "up", alias: "m"{"}"}]
        {extra}
        """;

    private static async Task<FakeOpenAIUpstream> UpstreamAsync()
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        // The user's text picks the answer: "ok" answers with usage, "cut" fails after the first chunk, "bad" is a 400.
        upstream.RespondWith(request => request.BodyText switch
        {
            var b when b.Contains("\"cut\"") => ChatReply.Text("a", "b", "c").WithUsage(Tokens).FailingAfter(1, MidStreamFailure.ErrorChunk),
            var b when b.Contains("\"bad\"") => FakeReply.Error(400, """{"error":{"message":"bad request","type":"invalid_request_error","code":null}}"""),
            _ => ChatReply.Text("hello").WithUsage(Tokens),
        });
        return upstream;
    }

    private static Task<TestServer> StartAsync(string yaml) => TestServer.StartAsync(yaml, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

    private static UsageRecorder Usage(TestServer server) => server.Server.Services.GetRequiredService<UsageRecorder>();

    private static async Task<(int Status, string Body)> SendAsync(TestServer server, string key, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", key);
        using var response = await server.Client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<(int, string)> ChatAsync(TestServer server, string key, string text, bool stream) => SendAsync(server, key, "/v1/chat/completions",
        $$"""{"model":"m","stream":{{(stream ? "true" : "false")}},"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"{{text}}"}]}""");

    private static Task<(int, string)> MessagesAsync(TestServer server, string key, string text, bool stream) => SendAsync(server, key, "/v1/messages",
        $$"""{"model":"m","max_tokens":50,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{text}}"}]}""");

    private static Task WaitForAsync(TestServer server, long requests) =>
        TestServer.EventuallyAsync(() => Task.FromResult(Usage(server).Totals().Requests == requests), $"{requests} requests recorded");

    [Fact]
    public async Task Counts_after_a_mix_of_requests_are_exact_and_survive_a_restart()
    {
        await using var upstream = await UpstreamAsync();
        var database = Path.Combine(UsageTestKit.TempDir(), "usage.db");
        JsonObject before;
        await using (var server = await StartAsync(Config(upstream, database)))
        {
            Assert.Equal(200, (await ChatAsync(server, KeyOne, "ok", stream: false)).Item1);     // passthrough
            Assert.Equal(200, (await ChatAsync(server, KeyOne, "ok", stream: true)).Item1);      // passthrough, streaming
            Assert.Equal(200, (await MessagesAsync(server, KeyTwo, "ok", stream: false)).Item1); // translated
            Assert.Equal(200, (await MessagesAsync(server, KeyTwo, "ok", stream: true)).Item1);  // translated, streaming
            Assert.Equal(200, (await SendAsync(server, KeyTwo, "/v1/messages/count_tokens", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""")).Item1);
            Assert.Equal(400, (await ChatAsync(server, KeyTwo, "bad", stream: false)).Item1);    // failed before the answer
            var (status, body) = await MessagesAsync(server, KeyOne, "cut", stream: true);        // failed mid-stream: a 200 with an error event
            Assert.Equal(200, status);
            Assert.Contains("error", body);
            await WaitForAsync(server, 6); // the token count is not an inference request

            before = UsageTestKit.Snapshot(Usage(server));
            var usage = before["usage"]!;
            Assert.Equal(6, (long)usage["total_requests"]!);
            Assert.Equal(2, (long)usage["failure_count"]!);
            Assert.Equal(4 * 120, (long)usage["total_tokens"]!);
            var one = ClientKeyLabel.Of(KeyOne);
            var two = ClientKeyLabel.Of(KeyTwo);
            Assert.Equal(3, (long)usage["apis"]![one]!["total_requests"]!);
            Assert.Equal(3, (long)usage["apis"]![two]!["total_requests"]!);
            Assert.Equal(2 * 120, (long)usage["apis"]![one]!["models"]!["m"]!["total_tokens"]!);
            var total = before["breakdown"]!["total"]!;
            Assert.Equal((400L, 80L, 20L, 120L), ((long)total["input_tokens"]!, (long)total["output_tokens"]!, (long)total["reasoning_tokens"]!, (long)total["cached_tokens"]!));
            var credential = Assert.Single(before["breakdown"]!["by_credential"]!.AsObject());
            Assert.Equal(6, (long)credential.Value!["requests"]!);
            Assert.Equal("openai-compatibility", Assert.Single(before["breakdown"]!["by_provider"]!.AsObject()).Key);
            var details = usage["apis"]![one]!["models"]!["m"]!["details"]!.AsArray();
            Assert.Equal([false, false, true], details.Select(d => (bool)d!["failed"]!));
            Assert.DoesNotContain(KeyOne, before.ToJsonString());
            Assert.DoesNotContain(KeyTwo, before.ToJsonString());
        }

        // Graceful stop flushed everything; the database never holds a client key.
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(database)!))
            Assert.DoesNotContain(KeyOne, System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)));
        await using (var restarted = await StartAsync(Config(upstream, database)))
        {
            var after = UsageTestKit.Snapshot(Usage(restarted));
            Assert.True(JsonNode.DeepEquals(before["usage"], after["usage"]), $"{before["usage"]}\n!=\n{after["usage"]}");
            Assert.True(JsonNode.DeepEquals(before["breakdown"], after["breakdown"]));

            Assert.Equal(200, (await ChatAsync(restarted, KeyOne, "ok", stream: false)).Item1);
            await WaitForAsync(restarted, 7); // counting goes on from the stored figures
        }
    }

    [Fact]
    public async Task An_abrupt_stop_loses_nothing_the_periodic_flush_wrote()
    {
        await using var upstream = await UpstreamAsync();
        var database = Path.Combine(UsageTestKit.TempDir(), "usage.db");
        await using (var server = await StartAsync(Config(upstream, database, "usage-statistics-flush-seconds: 1")))
        {
            await ChatAsync(server, KeyOne, "ok", stream: false);
            await MessagesAsync(server, KeyTwo, "ok", stream: true);
            await TestServer.EventuallyAsync(async () =>
            {
                if (!File.Exists(database)) return false;
                using var reader = SqliteUsageStore.Open(database);
                return (await reader.ReadRecentAsync(10, default)).Count == 2;
            }, "the periodic flush wrote both requests");

            Usage(server).Abandon(); // as if killed: no more flushes, none at shutdown
            await ChatAsync(server, KeyOne, "ok", stream: false);
            await WaitForAsync(server, 3);
        }

        await using var restarted = await StartAsync(Config(upstream, database));
        var usage = UsageTestKit.Snapshot(Usage(restarted))["usage"]!;
        Assert.Equal(2, (long)usage["total_requests"]!);
        Assert.Equal(240, (long)usage["total_tokens"]!);
    }

    [Fact]
    public async Task Disabled_records_nothing_and_enabling_takes_effect_live()
    {
        await using var upstream = await UpstreamAsync();
        var database = Path.Combine(UsageTestKit.TempDir(), "usage.db");
        await using var server = await StartAsync(Config(upstream, database, "usage-statistics-enabled: false"));

        Assert.Equal(200, (await ChatAsync(server, KeyOne, "ok", stream: false)).Item1);
        Assert.Equal(200, (await MessagesAsync(server, KeyTwo, "ok", stream: true)).Item1);
        await Usage(server).FlushAsync();
        Assert.Equal(0, Usage(server).Totals().Requests);
        Assert.False(File.Exists(database));

        await server.WriteConfigAsync(Config(upstream, database));
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Server.Config.Config.UsageStatisticsEnabled), "the config reload");
        Assert.Equal(200, (await ChatAsync(server, KeyOne, "ok", stream: false)).Item1);
        await WaitForAsync(server, 1);
        await Usage(server).FlushAsync();
        Assert.True(File.Exists(database));
    }
}
