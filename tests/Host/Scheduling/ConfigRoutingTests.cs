using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Scheduling;

/// <summary>
/// The CLIProxyAPI routing keys against the real server and a fake OpenAI-compatible upstream with two accounts (keys):
/// session affinity for Anthropic and Responses clients, request-scoped error rules, <c>$</c> header values and
/// passthrough-headers.
/// </summary>
public sealed class ConfigRoutingTests
{
    private const string ClientKey = "client-key-routing";

    private sealed class Pool : IAsyncDisposable
    {
        public required FakeOpenAIUpstream Upstream { get; init; }
        public required TestServer Server { get; init; }
        /// <summary>The two keys in the order the scheduler sorts their credentials.</summary>
        public required string[] Keys { get; init; }
        public ConcurrentDictionary<string, Func<FakeReply>> Overrides { get; } = new();

        public Scheduler Scheduler => Server.Server.Services.GetRequiredService<Scheduler>();

        public static string KeyOf(RecordedRequest request) => request.Header("Authorization")!["Bearer ".Length..];

        /// <summary>The keys that served requests whose body contains <paramref name="marker"/>, in order.</summary>
        public List<string> KeysFor(string marker) => [.. Upstream.ChatRequests.Where(r => r.BodyText.Contains(marker)).Select(KeyOf)];

        public async Task<(int Status, string Body, HttpResponseMessage Response)> PostAsync(string path, string json, params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            var response = await Server.Client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<Pool> StartAsync(string extraConfig = "", string entryConfig = "")
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        string[] keys = ["sk-first", "sk-second"];
        var config = $"""
            api-keys: ["{ClientKey}"]
            openai-compatibility:
              - name: "pool"
                base-url: "{upstream.BaseUrl}"
                api-key-entries:
                  - api-key: "{keys[0]}"
                  - api-key: "{keys[1]}"
                models:
                  - {"{"}name: "up-m", alias: "m"{"}"}
            {entryConfig}
            {extraConfig}
            """;
        var server = await TestServer.StartAsync(config, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
        var pool = new Pool
        {
            Upstream = upstream,
            Server = server,
            Keys = [.. keys.OrderBy(k => ConfigCredentials.StableId("openai-compatibility:pool", [k, upstream.BaseUrl, ""]), StringComparer.Ordinal)],
        };
        upstream.RespondWith(request => pool.Overrides.TryGetValue(Pool.KeyOf(request), out var reply) ? reply() : ChatReply.Text($"served by {Pool.KeyOf(request)}"));
        return pool;
    }

    // An Anthropic client (Claude Code-like: its session in metadata.user_id), the whole conversation resent each turn.
    private static string AnthropicTurn(int turns) =>
        new JsonObject
        {
            ["model"] = "m",
            ["max_tokens"] = 64,
            ["metadata"] = new JsonObject { ["user_id"] = "user_5e1d_account_a0c3_session_2b7f-anthropic" },
            ["messages"] = new JsonArray([.. Enumerable.Range(0, turns).SelectMany(i => new JsonNode[]
            {
                new JsonObject { ["role"] = "user", ["content"] = i == 0 ? "opening of conversation A" : $"A follow-up {i}" },
                new JsonObject { ["role"] = "assistant", ["content"] = $"A answer {i}" },
            }).SkipLast(1)]),
        }.ToJsonString();

    // A Responses client with no ids at all: only its first message says which conversation it is.
    private static string ResponsesTurn(int turns) =>
        new JsonObject
        {
            ["model"] = "m",
            ["input"] = new JsonArray([.. Enumerable.Range(0, turns).SelectMany(i => new JsonNode[]
            {
                new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = i == 0 ? "opening of conversation B" : $"B follow-up {i}" }) },
                new JsonObject { ["type"] = "message", ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = $"B answer {i}" }) },
            }).SkipLast(1)]),
        }.ToJsonString();

    [Fact]
    public async Task Two_interleaved_conversations_each_stay_on_one_account_and_a_cooling_account_moves_and_rebinds_its_conversation()
    {
        await using var pool = await StartAsync("routing:\n  strategy: round-robin\n  session-affinity: true\n  session-affinity-ttl: 1h\n");
        for (var turn = 1; turn <= 5; turn++)
        {
            Assert.Equal(200, (await pool.PostAsync("/v1/messages", AnthropicTurn(turn))).Status);
            Assert.Equal(200, (await pool.PostAsync("/v1/responses", ResponsesTurn(turn))).Status);
            // A third conversation (an OpenAI chat client; its opening message is all that identifies it) in between.
            Assert.Equal(200, (await pool.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"opening of conversation C"}]}""")).Status);
        }
        var a = pool.KeysFor("opening of conversation A");
        var b = pool.KeysFor("opening of conversation B");
        Assert.Equal(5, a.Count);
        Assert.Equal(5, b.Count);
        Assert.Single(a.Distinct());
        Assert.Single(b.Distinct());
        Assert.NotEqual(a[0], b[0]); // round-robin spread the two first turns; affinity kept them apart
        Assert.Single(pool.KeysFor("opening of conversation C").Distinct());
        Assert.Equal(3, pool.Scheduler.Affinity.View(TimeSpan.FromHours(1)).Count);

        // A's account runs out of quota: A's next turn moves to the other account and is bound there.
        var homeOfA = a[0];
        pool.Overrides[homeOfA] = () => FakeReply.Error(429, """{"error":{"message":"quota exhausted","type":"rate_limit_error"}}""",
            new Dictionary<string, string> { ["Retry-After"] = "60" });
        var moved = await pool.PostAsync("/v1/messages", AnthropicTurn(6));
        Assert.Equal(200, moved.Status);
        Assert.Contains($"served by {b[0]}", moved.Body);

        pool.Overrides.Clear();
        pool.Scheduler.Reset(); // the old account is usable again, but the conversation's cache now lives on the new one
        var after = await pool.PostAsync("/v1/messages", AnthropicTurn(7));
        Assert.Contains($"served by {b[0]}", after.Body);
        Assert.Equal(3, pool.Scheduler.Affinity.View(TimeSpan.FromHours(1)).PerCredential.Values.Sum());
    }

    // A Responses client that keeps no history and no session: each turn names only the previous answer's id.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_chain_of_previous_response_ids_stays_on_one_account(bool stream)
    {
        await using var pool = await StartAsync("routing:\n  strategy: round-robin\n  session-affinity: true\n");
        var answers = 0;
        pool.Upstream.RespondWith(_ => new ChatReply { Id = $"chatcmpl-{Interlocked.Increment(ref answers)}" }.WithText("ok")); // a new id per answer, as upstreams do
        string? previous = null;
        var ids = new List<string>();
        for (var turn = 1; turn <= 3; turn++)
        {
            var body = new JsonObject { ["model"] = "m", ["stream"] = stream, ["input"] = $"chain turn {turn}" };
            if (previous is not null) body["previous_response_id"] = previous;
            var answer = await pool.PostAsync("/v1/responses", body.ToJsonString());
            Assert.Equal(200, answer.Status);
            previous = stream ? StreamedResponseId(answer.Body) : (string)JsonNode.Parse(answer.Body)!["id"]!;
            ids.Add(previous);
        }
        // Each turn's key is new (its own input, the previous id), so round-robin alone would alternate the accounts.
        var keys = pool.KeysFor("chain turn");
        Assert.Equal(3, keys.Count);
        Assert.Single(keys.Distinct());
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(3, pool.Scheduler.ResponseChains.View(TimeSpan.FromHours(1)).Count);
    }

    private static string StreamedResponseId(string sse)
    {
        var created = sse.Split('\n').First(l => l.StartsWith("data:", StringComparison.Ordinal) && l.Contains("response.created"));
        return (string)JsonNode.Parse(created[5..])!["response"]!["id"]!;
    }

    [Fact]
    public async Task Without_session_affinity_the_same_conversation_rotates()
    {
        await using var pool = await StartAsync();
        for (var turn = 1; turn <= 4; turn++) await pool.PostAsync("/v1/messages", AnthropicTurn(turn));
        Assert.Equal(2, pool.KeysFor("opening of conversation A").Distinct().Count());
    }

    private const string Rules = """
            request-scoped-errors:
              - {status: 400, match: ["context_length_exceeded"], action: continue}
              - {status: 400, match-regexr: ["daily .* reached$"], action: continue-and-cooldown}
              - {status: 503, match: ["overloaded, do not retry"], action: stop}
              - {status: 500, match: ["poisoned prompt"], action: stop-and-cooldown}
        """;

    [Theory]
    // A 400 would stop without trying the other account; the rule moves on.
    [InlineData(400, "context_length_exceeded for this deployment", true, false)]
    [InlineData(400, "your daily limit was reached", true, true)]
    // A 503 would move on (and cool the account); the rule stops here and cools nothing.
    [InlineData(503, "overloaded, do not retry", false, false)]
    [InlineData(500, "poisoned prompt detected", false, true)]
    public async Task Request_scoped_error_rules_decide_before_the_built_in_classification(int status, string message, bool movesOn, bool coolsDown)
    {
        await using var pool = await StartAsync("routing:\n  strategy: fill-first\n", Rules);
        var (first, second) = (pool.Keys[0], pool.Keys[1]);
        pool.Overrides[first] = () => FakeReply.Error(status, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "upstream_error" } }.ToJsonString());
        const string chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";

        var answer = await pool.PostAsync("/v1/chat/completions", chat);
        Assert.Equal(movesOn ? 200 : status, answer.Status);
        Assert.Equal(movesOn ? [first, second] : [first], pool.Upstream.ChatRequests.Select(Pool.KeyOf));

        // Whether the first account was cooled shows in where fill-first sends the next request once it answers again.
        pool.Overrides.Clear();
        var next = await pool.PostAsync("/v1/chat/completions", chat);
        Assert.Contains($"served by {(coolsDown ? second : first)}", next.Body);
    }

    [Fact]
    public async Task Without_a_matching_rule_the_built_in_classification_applies()
    {
        await using var pool = await StartAsync("routing:\n  strategy: fill-first\n", Rules);
        pool.Overrides[pool.Keys[0]] = () => FakeReply.Error(400, """{"error":{"message":"unrelated bad request"}}""");
        var answer = await pool.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(400, answer.Status);
        Assert.Single(pool.Upstream.ChatRequests);
    }

    [Fact]
    public async Task Header_values_starting_with_a_dollar_copy_the_clients_header_and_are_left_out_without_it()
    {
        await using var pool = await StartAsync(entryConfig: """
                headers:
                  X-Fixed: "fixed-value"
                  X-Upstream-Session: "$X-Client-Session"
            """);
        const string chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
        await pool.PostAsync("/v1/messages", chat.Replace("\"messages\"", "\"max_tokens\":9,\"messages\""), ("X-Client-Session", "sess-42"));
        await pool.PostAsync("/v1/chat/completions", chat);

        var (with, without) = (pool.Upstream.ChatRequests[0], pool.Upstream.ChatRequests[1]);
        Assert.Equal("sess-42", with.Header("X-Upstream-Session"));
        Assert.Equal("fixed-value", with.Header("X-Fixed"));
        Assert.Null(without.Header("X-Upstream-Session"));
        Assert.Equal("fixed-value", without.Header("X-Fixed"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Passthrough_headers_copy_the_upstreams_filtered_headers_to_the_client(bool enabled)
    {
        await using var pool = await StartAsync($"passthrough-headers: {(enabled ? "true" : "false")}\n");
        pool.Upstream.RespondWith(_ => FakeReply.Json(ChatReply.Text("hello").Completion("up-m"), 200, new Dictionary<string, string>
        {
            ["X-Ratelimit-Remaining-Requests"] = "42",
            ["Set-Cookie"] = "session=upstream",
        }));
        // A translated request (Anthropic client, OpenAI upstream): the headers come from the attempt, not a relay.
        var answer = await pool.PostAsync("/v1/messages", """{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, answer.Status);
        Assert.Equal(enabled, answer.Response.Headers.TryGetValues("X-Ratelimit-Remaining-Requests", out var values) && values.Single() == "42");
        Assert.False(answer.Response.Headers.Contains("Set-Cookie"));
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>
/// passthrough-headers with failover: an upstream stream that answers 200 with its headers and then fails before its first
/// event is an attempt that did not serve; only the headers of the account that did serve reach the client.
/// </summary>
public sealed class PassthroughHeadersFailoverTests
{
    private sealed class FailingStreamReply(IReadOnlyDictionary<string, string> headers) : FakeReply
    {
        public override async Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext http, RecordedRequest request)
        {
            http.Response.StatusCode = 200;
            http.Response.ContentType = "text/event-stream";
            foreach (var (name, value) in headers) http.Response.Headers[name] = value;
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(
                "data: " + """{"error":{"message":"upstream overloaded","type":"server_error","code":"overloaded"}}""" + "\n\n"));
        }
    }

    // A translated stream (Anthropic client, OpenAI upstream): the error event comes before any answer event, so the
    // attempt fails before its first byte and the next account serves.
    [Theory]
    [InlineData("/v1/messages", """{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/responses", """{"model":"m","stream":true,"input":"hi"}""")]
    public async Task Only_the_serving_attempts_headers_reach_the_client(string path, string body)
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        var config = $"""
            api-keys: ["k"]
            passthrough-headers: true
            routing:
              strategy: fill-first
            openai-compatibility:
              - name: "pool"
                base-url: "{upstream.BaseUrl}"
                api-key-entries:
                  - api-key: "sk-one"
                  - api-key: "sk-two"
                models:
                  - {"{"}name: "up-m", alias: "m"{"}"}
            """;
        var served = new ConcurrentQueue<string>();
        var failedFirst = 0;
        upstream.RespondWith(request =>
        {
            var key = request.Header("Authorization")!["Bearer ".Length..];
            if (Interlocked.Exchange(ref failedFirst, 1) == 0)
                return new FailingStreamReply(new Dictionary<string, string> { ["X-Ratelimit-Remaining-Requests"] = "failed-" + key, ["X-Only-On-Failed"] = "1" });
            served.Enqueue(key);
            return new HeaderedReply(FakeReply.Sse(ChatReply.Text("hello").Chunks("up-m", false)),
                new Dictionary<string, string> { ["X-Ratelimit-Remaining-Requests"] = "served-" + key });
        });
        await using var server = await TestServer.StartAsync(config, clientKey: "k", pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
        using var response = await server.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("hello", text);
        Assert.Equal(2, upstream.ChatRequests.Count); // the first account failed before its first event; the second served
        Assert.Equal("served-" + served.Single(), response.Headers.GetValues("X-Ratelimit-Remaining-Requests").Single());
        Assert.False(response.Headers.Contains("X-Only-On-Failed"));
    }

    /// <summary>Another reply with headers set before it writes.</summary>
    private sealed class HeaderedReply(FakeReply inner, IReadOnlyDictionary<string, string> headers) : FakeReply
    {
        public override Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext http, RecordedRequest request)
        {
            foreach (var (name, value) in headers) http.Response.Headers[name] = value;
            return inner.WriteAsync(http, request);
        }
    }
}
