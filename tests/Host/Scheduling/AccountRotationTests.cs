using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PluginProxy.Host.Credentials;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Scheduling;

/// <summary>
/// Several accounts of one OpenAI-compatible upstream, played by a fake that answers per API key, behind the real
/// server. Clients ask for model <c>m</c> (upstream <c>up-m</c>) or <c>other</c> (upstream <c>up-other</c>).
/// </summary>
public sealed class AccountRotationTests
{
    private const string ClientKey = "client-key-accounts";
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
    private const string OtherChat = """{"model":"other","messages":[{"role":"user","content":"hi"}]}""";

    private sealed class Accounts : IAsyncDisposable
    {
        public required FakeOpenAIUpstream Upstream { get; init; }
        public required TestServer Server { get; init; }
        /// <summary>Keys in the order the scheduler sorts their credentials (by id).</summary>
        public required List<string> KeysById { get; init; }
        /// <summary>Per key and upstream model: the reply to give, or null to answer normally.</summary>
        public ConcurrentDictionary<(string Key, string Model), Func<FakeReply>> Overrides { get; } = new();

        public List<string> KeysSeen(string upstreamModel) =>
            [.. Upstream.ChatRequests.Where(r => (string?)r.Json?["model"] == upstreamModel).Select(r => r.Header("Authorization")!["Bearer ".Length..])];

        public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> AskAsync(string body = Chat)
        {
            var response = await Server.PostJsonAsync("/v1/chat/completions", body);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, JsonText(text), response);
        }

        private static JsonNode? JsonText(string text)
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<Accounts> StartAsync(int count, string extraConfig = "")
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        var keys = Enumerable.Range(0, count).Select(i => $"sk-account-{(char)('a' + i)}").ToList();
        var config = $"""
            api-keys: ["{ClientKey}"]
            openai-compatibility:
              - name: "pool"
                base-url: "{upstream.BaseUrl}"
                api-key-entries:
            {string.Join("\n", keys.Select(k => $"      - api-key: \"{k}\""))}
                models:
                  - {"{"}name: "up-m", alias: "m"{"}"}
                  - {"{"}name: "up-other", alias: "other"{"}"}
            {extraConfig}
            """;
        var server = await TestServer.StartAsync(config, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
        var accounts = new Accounts
        {
            Upstream = upstream,
            Server = server,
            KeysById = [.. keys.OrderBy(k => ConfigCredentials.StableId("openai-compatibility:pool", [k, upstream.BaseUrl, ""]), StringComparer.Ordinal)],
        };
        upstream.RespondWith(request =>
        {
            var key = request.Header("Authorization")!["Bearer ".Length..];
            var model = (string?)request.Json?["model"] ?? "";
            return accounts.Overrides.TryGetValue((key, model), out var reply) ? reply() : ChatReply.Text($"served by {key}");
        });
        return accounts;
    }

    private static FakeReply Quota(int retryAfterSeconds) => FakeReply.Error(429,
        """{"error":{"message":"quota exhausted","type":"rate_limit_error","code":"rate_limit_exceeded"}}""",
        new Dictionary<string, string> { ["Retry-After"] = retryAfterSeconds.ToString() });

    private static string? Answer(JsonNode? body) => (string?)body?["choices"]?[0]?["message"]?["content"];

    [Fact]
    public async Task A_429_moves_the_request_to_B_and_A_is_skipped_for_that_model_but_serves_others()
    {
        await using var accounts = await StartAsync(2, "routing:\n  strategy: fill-first\n");
        var (a, b) = (accounts.KeysById[0], accounts.KeysById[1]);
        accounts.Overrides[(a, "up-m")] = () => Quota(30);

        var first = await accounts.AskAsync();
        Assert.Equal(200, first.Status);
        Assert.Equal($"served by {b}", Answer(first.Body));
        Assert.Equal([a, b], accounts.KeysSeen("up-m"));

        var second = await accounts.AskAsync();
        Assert.Equal($"served by {b}", Answer(second.Body));
        Assert.Equal([a, b, b], accounts.KeysSeen("up-m")); // A was not asked again

        var other = await accounts.AskAsync(OtherChat);
        Assert.Equal($"served by {a}", Answer(other.Body));

        // The same model spelled differently shares the cooldown.
        var upper = await accounts.AskAsync(Chat.Replace("\"m\"", "\"M\""));
        Assert.Equal($"served by {b}", Answer(upper.Body));
        Assert.Equal([a, b, b, b], accounts.KeysSeen("up-m"));
    }

    [Fact]
    public async Task Bootstrap_retries_give_a_stream_that_failed_before_its_first_byte_another_go_on_the_same_account()
    {
        await using var accounts = await StartAsync(1, "streaming:\n  bootstrap-retries: 1\n");
        var only = accounts.KeysById[0];
        var attempts = 0;
        accounts.Overrides[(only, "up-m")] = () => Interlocked.Increment(ref attempts) == 1 ? FakeReply.Sse([], end: StreamEnd.Abort) : ChatReply.Text("second try");

        using var response = await accounts.Server.PostJsonAsync("/v1/messages",
            """{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("second try", text);
        Assert.Equal(2, accounts.KeysSeen("up-m").Count);
    }

    [Fact]
    public async Task Fill_first_stays_on_the_first_account_until_it_fails()
    {
        await using var accounts = await StartAsync(3, "routing:\n  strategy: fill-first\n");
        var first = accounts.KeysById[0];
        for (var i = 0; i < 5; i++) Assert.Equal($"served by {first}", Answer((await accounts.AskAsync()).Body));

        accounts.Overrides[(first, "up-m")] = () => FakeReply.Error(503, """{"error":{"message":"overloaded","type":"server_error"}}""");
        Assert.Equal($"served by {accounts.KeysById[1]}", Answer((await accounts.AskAsync()).Body));
        Assert.Equal($"served by {accounts.KeysById[1]}", Answer((await accounts.AskAsync()).Body));
    }

    [Fact]
    public async Task Round_robin_spreads_100_sequential_requests_evenly_over_4_accounts()
    {
        await using var accounts = await StartAsync(4);
        for (var i = 0; i < 100; i++) Assert.Equal(200, (await accounts.AskAsync()).Status);

        var counts = accounts.KeysSeen("up-m").GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 24, 26));
    }

    [Fact]
    public async Task When_every_account_is_cooling_the_client_gets_429_with_retry_after_and_the_model()
    {
        await using var accounts = await StartAsync(2);
        foreach (var key in accounts.KeysById) accounts.Overrides[(key, "up-m")] = () => Quota(30);

        var first = await accounts.AskAsync();
        Assert.Equal(429, first.Status); // both tried: the last upstream answer is relayed
        Assert.Equal(2, accounts.KeysSeen("up-m").Count);

        var second = await accounts.AskAsync();
        Assert.Equal(429, second.Status);
        Assert.Equal(2, accounts.KeysSeen("up-m").Count); // nobody was asked
        var retryAfter = int.Parse(second.Response.Headers.RetryAfter!.ToString());
        Assert.InRange(retryAfter, 1, 30);
        var error = second.Body!["error"]!;
        Assert.Equal("model_cooldown", (string?)error["code"]);
        Assert.Equal("rate_limit_error", (string?)error["type"]);
        Assert.Equal("m", (string?)error["model"]);
        Assert.Contains("All credentials for model 'm' are cooling down", (string?)error["message"]);
        Assert.InRange((int)error["reset_seconds"]!, 1, 30);

        // Another model of the same accounts still works.
        Assert.Equal(200, (await accounts.AskAsync(OtherChat)).Status);
    }

    [Fact]
    public async Task A_reset_time_in_the_past_frees_the_account()
    {
        await using var accounts = await StartAsync(1);
        var only = accounts.KeysById[0];
        accounts.Overrides[(only, "up-m")] = () => Quota(1);
        Assert.Equal(429, (await accounts.AskAsync()).Status);
        accounts.Overrides.Clear();

        Assert.Equal(429, (await accounts.AskAsync()).Status); // still cooling, nobody asked
        Assert.Single(accounts.KeysSeen("up-m"));
        await TestServer.EventuallyAsync(async () => (await accounts.AskAsync()).Status == 200, "the account serves again after its reset time", 10);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/messages", """{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    public async Task A_stream_that_fails_before_its_first_byte_is_completed_by_another_account(string path, string body)
    {
        await using var accounts = await StartAsync(2, "routing:\n  strategy: fill-first\n");
        var (a, b) = (accounts.KeysById[0], accounts.KeysById[1]);
        accounts.Overrides[(a, "up-m")] = () => FakeReply.Sse([], end: StreamEnd.Abort); // 200, then the connection drops

        using var response = await accounts.Server.PostJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains($"served by {b}", text);
        Assert.DoesNotContain("error", text);
        Assert.Equal([a, b], accounts.KeysSeen("up-m"));
    }

    [Fact]
    public async Task Request_retry_waits_for_a_cooldown_within_max_retry_interval_and_then_succeeds()
    {
        await using var accounts = await StartAsync(1, "request-retry: 1\nmax-retry-interval: 5\n");
        var only = accounts.KeysById[0];
        var answers = 0;
        accounts.Overrides[(only, "up-m")] = () => Interlocked.Increment(ref answers) == 1 ? Quota(1) : ChatReply.Text("after the wait");

        var result = await accounts.AskAsync();

        Assert.Equal(200, result.Status);
        Assert.Equal("after the wait", Answer(result.Body));
        Assert.Equal(2, accounts.KeysSeen("up-m").Count);
    }

    [Fact]
    public async Task A_cooldown_longer_than_max_retry_interval_is_not_waited_for()
    {
        await using var accounts = await StartAsync(1, "request-retry: 3\nmax-retry-interval: 5\n");
        accounts.Overrides[(accounts.KeysById[0], "up-m")] = () => Quota(60);

        var result = await accounts.AskAsync();

        Assert.Equal(429, result.Status);
        Assert.Single(accounts.KeysSeen("up-m"));
    }

    [Fact]
    public async Task A_config_reload_that_does_not_touch_an_account_leaves_its_cooldown()
    {
        var extra = "routing:\n  strategy: fill-first\n";
        await using var accounts = await StartAsync(2, extra);
        var (a, b) = (accounts.KeysById[0], accounts.KeysById[1]);
        accounts.Overrides[(a, "up-m")] = () => Quota(300);
        Assert.Equal($"served by {b}", Answer((await accounts.AskAsync()).Body));
        accounts.Overrides.Clear();

        // Add a client key and a payload rule; the accounts stay as they were.
        var config = await File.ReadAllTextAsync(accounts.Server.ConfigPath);
        await File.WriteAllTextAsync(accounts.Server.ConfigPath, config.Replace($"api-keys: [\"{ClientKey}\"]", $"api-keys: [\"{ClientKey}\", \"second-key\"]"));
        await TestServer.EventuallyAsync(() => Task.FromResult(accounts.Server.Server.Config.Config.ApiKeys.Contains("second-key")), "the reload applies");

        Assert.Equal($"served by {b}", Answer((await accounts.AskAsync()).Body));
        Assert.Equal([a, b, b], accounts.KeysSeen("up-m"));
    }

    [Fact]
    public async Task Payload_rules_edit_the_upstream_body_and_a_global_proxy_carries_the_traffic()
    {
        await using var proxy = new HttpForwardProxy();
        await using var accounts = await StartAsync(1, $$"""
            payload:
              override:
                - models: [{name: "up-*", protocol: openai}]
                  params: {"temperature": 0.25, "metadata.team": "blue"}
            """);
        Assert.Equal(200, (await accounts.AskAsync()).Status);
        var sent = accounts.Upstream.ChatRequests.Single().Json!;
        Assert.Equal(0.25, (double)sent["temperature"]!);
        Assert.Equal("blue", (string?)sent["metadata"]!["team"]);

        var config = await File.ReadAllTextAsync(accounts.Server.ConfigPath);
        await File.WriteAllTextAsync(accounts.Server.ConfigPath, config + $"\nproxy-url: \"http://127.0.0.1:{proxy.Port}\"\n");
        await TestServer.EventuallyAsync(async () => Answer((await accounts.AskAsync()).Body) == "via http proxy", "traffic goes through the proxy");
        var direct = accounts.Upstream.ChatRequests.Count;
        Assert.Equal("via http proxy", Answer((await accounts.AskAsync()).Body));
        Assert.Equal(direct, accounts.Upstream.ChatRequests.Count);
        Assert.Contains(proxy.Seen, line => line.StartsWith($"POST {accounts.Upstream.BaseUrl}/chat/completions", StringComparison.Ordinal));
    }
}
