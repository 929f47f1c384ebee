using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PluginProxy.Host.Credentials;
using PluginProxy.Tests.Support;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>
/// What the failover loop does with failures, against accounts of a fake OpenAI-compatible upstream behind the real
/// server: hung upstreams time out and move on, a lone account gets a transient failure retried, request-scoped
/// failures cool nothing, and the proxy's request id survives passthrough.
/// </summary>
public sealed class FailoverLoopTests
{
    private const string ClientKey = "client-key-failover";
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
    private const string StreamChat = """{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    private sealed class Pool : IAsyncDisposable
    {
        public required FakeOpenAIUpstream Upstream { get; init; }
        public required TestServer Server { get; init; }
        public required List<string> KeysById { get; init; }
        /// <summary>Per key: replies to give, in order; empty queue = answer normally.</summary>
        public ConcurrentDictionary<string, ConcurrentQueue<Func<FakeReply>>> Scripted { get; } = new();

        public void Script(string key, params Func<FakeReply>[] replies) => Scripted[key] = new ConcurrentQueue<Func<FakeReply>>(replies);

        public List<string> KeysSeen() => [.. Upstream.ChatRequests.Select(r => r.Header("Authorization")!["Bearer ".Length..])];

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<Pool> StartAsync(int count, string extraConfig = "")
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        var keys = Enumerable.Range(0, count).Select(i => $"sk-failover-{(char)('a' + i)}").ToList();
        var config = $"""
            api-keys: ["{ClientKey}"]
            routing:
              strategy: fill-first
            openai-compatibility:
              - name: "pool"
                base-url: "{upstream.BaseUrl}"
                api-key-entries:
            {string.Join("\n", keys.Select(k => $"      - api-key: \"{k}\""))}
                models:
                  - {"{"}name: "up-m", alias: "m"{"}"}
            {extraConfig}
            """;
        var server = await TestServer.StartAsync(config, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
        var pool = new Pool
        {
            Upstream = upstream,
            Server = server,
            KeysById = [.. keys.OrderBy(k => ConfigCredentials.StableId("openai-compatibility:pool", [k, upstream.BaseUrl, ""]), StringComparer.Ordinal)],
        };
        upstream.RespondWith(request =>
        {
            var key = request.Header("Authorization")!["Bearer ".Length..];
            return pool.Scripted.TryGetValue(key, out var queue) && queue.TryDequeue(out var reply) ? reply() : ChatReply.Text($"served by {key}");
        });
        return pool;
    }

    private static string? Answer(string body) => (string?)JsonNode.Parse(body)?["choices"]?[0]?["message"]?["content"];

    private static FakeReply ServerError() => FakeReply.Error(500, """{"error":{"message":"upstream exploded","type":"server_error"}}""");

    [Fact]
    public async Task A_hung_upstream_times_out_before_the_first_byte_and_the_next_account_serves()
    {
        var never = new TaskCompletionSource();
        await using var pool = await StartAsync(2, "timeouts:\n  first-byte-seconds: 1\n");
        var (a, b) = (pool.KeysById[0], pool.KeysById[1]);
        pool.Script(a, () => ChatReply.Text("too late").HeldUntil(never.Task));

        using var response = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal($"served by {b}", Answer(await response.Content.ReadAsStringAsync()));

        // A is cooling now (a transient failure): the next request goes straight to B.
        using var second = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal($"served by {b}", Answer(await second.Content.ReadAsStringAsync()));
        Assert.Equal([a, b, b], pool.KeysSeen());
        never.SetResult();
    }

    [Fact]
    public async Task A_stream_that_goes_silent_ends_with_the_dialects_error_event()
    {
        var never = new TaskCompletionSource();
        await using var pool = await StartAsync(1, "timeouts:\n  stream-idle-seconds: 1\n");
        pool.Script(pool.KeysById[0], () => ChatReply.Text("one ", "two").PausingAfter(2, never.Task));

        // An Anthropic client, translated: the idle timeout becomes Anthropic's mid-stream error event.
        using var response = await pool.Server.PostJsonAsync("/v1/messages",
            """{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("event: error", text);
        Assert.Contains("stream-idle-seconds", text);
        Assert.DoesNotContain("message_stop", text);
        never.SetResult();
    }

    [Fact]
    public async Task One_account_one_transient_500_is_retried_on_the_same_account_and_the_client_gets_the_answer()
    {
        await using var pool = await StartAsync(1, "request-retry: 1\nmax-retry-interval: 5\n");
        var a = pool.KeysById[0];
        pool.Script(a, ServerError);

        using var response = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal($"served by {a}", Answer(await response.Content.ReadAsStringAsync()));
        Assert.Equal([a, a], pool.KeysSeen());

        // It served in the end, so it is not cooling: the next request is answered at once.
        using var next = await pool.Server.PostJsonAsync("/v1/chat/completions", StreamChat);
        Assert.Equal(200, (int)next.StatusCode);
    }

    [Fact]
    public async Task Repeated_transient_failures_still_reach_the_client_and_cool_the_account()
    {
        await using var pool = await StartAsync(1, "request-retry: 1\n");
        var a = pool.KeysById[0];
        pool.Script(a, ServerError, ServerError);

        using var response = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(500, (int)response.StatusCode);
        Assert.Equal([a, a], pool.KeysSeen());

        using var next = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(429, (int)next.StatusCode); // cooling: the all-cooling answer, nothing sent upstream
        Assert.Equal([a, a], pool.KeysSeen());
    }

    [Fact]
    public async Task Without_request_retry_a_transient_failure_moves_to_the_next_account_without_retrying()
    {
        await using var pool = await StartAsync(2);
        var (a, b) = (pool.KeysById[0], pool.KeysById[1]);
        pool.Script(a, ServerError);

        using var response = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal($"served by {b}", Answer(await response.Content.ReadAsStringAsync()));
        Assert.Equal([a, b], pool.KeysSeen());
    }

    [Fact]
    public async Task Compaction_is_refused_by_accounts_that_would_need_translation_and_nothing_is_sent_or_cooled()
    {
        await using var pool = await StartAsync(2);
        using var response = await pool.Server.PostJsonAsync("/v1/responses/compact", """{"model":"m","input":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(501, (int)response.StatusCode);
        Assert.Contains("Codex", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
        Assert.Empty(pool.Upstream.Requests);

        using var chat = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(200, (int)chat.StatusCode);
    }

    [Fact]
    public async Task The_proxys_request_id_survives_passthrough_and_the_upstreams_travels_under_its_own_name()
    {
        await using var pool = await StartAsync(1);
        pool.Script(pool.KeysById[0], () => FakeReply.Json(ChatReply.Text("hello").Completion("up-m"), 200,
            new Dictionary<string, string> { ["x-request-id"] = "req_upstream_123" }));

        using var response = await pool.Server.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(200, (int)response.StatusCode);
        var ours = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.NotEqual("req_upstream_123", ours);
        Assert.Contains(ours, pool.Server.Logs);
        Assert.Equal("req_upstream_123", Assert.Single(response.Headers.GetValues("X-Upstream-Request-Id")));
    }
}

/// <summary>A credential whose refresh token was revoked is parked, and its clients are told which login to run.</summary>
public sealed class NeedsLoginAnswerTests
{
    [Fact]
    public async Task When_only_a_needs_login_credential_serves_the_model_the_client_is_told_to_log_in()
    {
        await using var tokens = await FakeUpstreamHost.StartAsync(async (http, _) =>
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync("""{"error":"invalid_grant","error_description":"revoked"}""");
        });
        var config = $"""
            providers:
              lifecycled:
                token-url: "{tokens.Root}token"
            """;
        await using var server = await TestServer.StartAsync(config, root =>
        {
            var folder = Path.Combine(root, "plugins", "TestLifecycled");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "TestLifecycled.dll"), PluginProxy.Tests.Host.Credentials.LifecyclePlugin.Compile());
            // Expiring inside the lead: the background refresh runs at once and is refused for good.
            File.WriteAllText(Path.Combine(root, "auths", "life.json"),
                PluginProxy.Tests.Host.Credentials.LifecyclePlugin.Credential("revoked", "old-token", DateTimeOffset.UtcNow.AddMinutes(1)));
        });
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("login lifecycled")), "the needs-login warning is logged");

        using var response = await server.PostJsonAsync("/v1/chat/completions", """{"model":"life-model","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(503, (int)response.StatusCode);
        var message = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"];
        Assert.Contains("needs a new login", message);
        Assert.Contains("login lifecycled", message);
        Assert.DoesNotContain("old-token", message);
    }
}
