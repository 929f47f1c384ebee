using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary>The real server with the built Claude plugin, OAuth accounts pointing at fake Anthropic APIs: every client dialect, failover, cooling.</summary>
public sealed class ClaudeServerTests
{
    private const string ClientKey = "client-key-claude";
    private const string Model = "claude-sonnet-4-5-20250929";

    private sealed class Setup(TestServer server, FakeAnthropic[] upstreams) : IAsyncDisposable
    {
        public TestServer Server { get; } = server;
        public FakeAnthropic[] Upstreams { get; } = upstreams;
        public FakeAnthropic Upstream => Upstreams[0];
        public string BaseUrl => Server.Address.GetLeftPart(UriPartial.Authority);

        public async Task<(int Status, string Body)> PostAsync(string path, string json, string? userAgent = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            using var response = await Server.Client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            foreach (var upstream in Upstreams) await upstream.DisposeAsync();
        }
    }

    /// <summary>One OAuth account per fake upstream (file credentials with their own base_url), fill-first so the first is tried first.</summary>
    private static async Task<Setup> StartAsync(int accounts = 1)
    {
        var upstreams = new FakeAnthropic[accounts];
        for (var i = 0; i < accounts; i++) upstreams[i] = await FakeAnthropic.StartAsync();
        var server = await TestServer.StartAsync($"""
            api-keys: ["{ClientKey}"]
            routing:
              strategy: fill-first
            """, prepare: root =>
        {
            for (var i = 0; i < accounts; i++)
                File.WriteAllText(Path.Combine(root, "auths", $"claude-user{i}@example.test.json"), new JsonObject
                {
                    ["type"] = "claude", ["email"] = $"user{i}@example.test", ["access_token"] = $"sk-ant-oat01-account{i}", ["refresh_token"] = $"sk-ant-ort01-r{i}",
                    ["expired"] = "2099-01-01T00:00:00Z", ["base_url"] = upstreams[i].BaseUrl,
                }.ToJsonString());
        }, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
        return new Setup(server, upstreams);
    }

    private static string Chat(bool stream) => $$"""{"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Openai_chat_clients_are_translated_and_always_streamed_upstream(bool stream)
    {
        await using var setup = await StartAsync();
        var (status, body) = await setup.PostAsync("/v1/chat/completions", Chat(stream));

        Assert.Equal(200, status);
        if (stream) Assert.Contains("data: [DONE]", body);
        else Assert.Equal("Hello from Claude", (string?)JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]);
        if (stream) Assert.Contains(" from Claude", body);
        var sent = Assert.Single(setup.Upstream.Messages);
        Assert.True((bool)sent.Json!["stream"]!);
        Assert.Equal("Bearer sk-ant-oat01-account0", sent.Header("authorization"));
        Assert.Equal(Model, (string?)sent.Json!["model"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Responses_clients_are_translated(bool stream)
    {
        await using var setup = await StartAsync();
        var (status, body) = await setup.PostAsync("/v1/responses", $$"""{"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"input":"hi"}""");

        Assert.Equal(200, status);
        if (stream) Assert.Contains("response.completed", body);
        else Assert.Contains("Hello from Claude", body);
        Assert.Single(setup.Upstream.Messages);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gemini_clients_are_translated(bool stream)
    {
        await using var setup = await StartAsync();
        var path = stream ? $"/v1beta/models/{Model}:streamGenerateContent?alt=sse" : $"/v1beta/models/{Model}:generateContent";
        var (status, body) = await setup.PostAsync(path, """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""");

        Assert.Equal(200, status);
        Assert.Contains("Claude", body);
        Assert.Single(setup.Upstream.Messages);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Anthropic_clients_pass_through(bool stream)
    {
        await using var setup = await StartAsync();
        var events = string.Concat(AnthropicReplies.TextEvents("Hi", " there"));
        if (stream) setup.Upstream.Enqueue(FakeReply.Sse([events]));
        var json = $$"""{"model":"{{Model}}","max_tokens":64,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""";
        var (status, body) = await setup.PostAsync("/v1/messages", json, userAgent: "claude-cli/2.1.289 (external, cli)");

        Assert.Equal(200, status);
        if (stream) Assert.Equal(events, body);
        else Assert.Equal("Hello from Claude", (string?)JsonNode.Parse(body)!["content"]![0]!["text"]);
        var sent = Assert.Single(setup.Upstream.Messages);
        Assert.Equal(stream, (bool)sent.Json!["stream"]!);
        Assert.Contains("oauth-2025-04-20", sent.Header("anthropic-beta"));
    }

    [Fact]
    public async Task A_two_turn_tool_loop_returns_the_thinking_signature_byte_exact_and_tool_names_unprefixed()
    {
        await using var setup = await StartAsync();
        const string signature = "EqQBCkgIARABGAIiQL+/x0+=/sig_with+plus/and=equals==";
        setup.Upstream.Enqueue(AnthropicReplies.ToolStream("proxy_get_weather", "toolu_01", """{"city":"Paris"}""", "Let me check.", signature));
        const string tools = """[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]""";
        var first = $$"""{"model":"{{Model}}","max_tokens":1024,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"tools":{{tools}},"messages":[{"role":"user","content":"Weather in Paris?"}]}""";
        var (status, body) = await setup.PostAsync("/v1/messages", first, "claude-cli/2.1.289 (external, cli)");

        Assert.Equal(200, status);
        Assert.Contains("\"name\":\"get_weather\"", body);
        Assert.DoesNotContain("proxy_", body);
        Assert.Contains(JsonValue.Create(signature).ToJsonString(), body); // relayed exactly as the upstream encoded it

        var second = $$"""
            {"model":"{{Model}}","max_tokens":1024,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"tools":{{tools}},"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"Let me check.","signature":"{{signature}}"},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"} }]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"Sunny"}]}]}
            """;
        (status, body) = await setup.PostAsync("/v1/messages", second, "claude-cli/2.1.289 (external, cli)");

        Assert.Equal(200, status);
        var sent = setup.Upstream.Messages[1];
        Assert.Contains("\"signature\":\"" + signature + "\"", sent.BodyText); // the same bytes, no escaping added
        var assistant = sent.Json!["messages"]![1]!["content"]!;
        Assert.Equal("proxy_get_weather", (string?)assistant[1]!["name"]);
        Assert.Equal("toolu_01", (string?)sent.Json!["messages"]![2]!["content"]![0]!["tool_use_id"]);
    }

    [Fact]
    public async Task An_openai_tool_loop_round_trips_through_claude()
    {
        await using var setup = await StartAsync();
        setup.Upstream.Enqueue(AnthropicReplies.ToolStream("proxy_get_weather", "toolu_07", """{"city":"Oslo"}"""));
        const string tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
        var (status, body) = await setup.PostAsync("/v1/chat/completions", $$"""{"model":"{{Model}}","tools":{{tools}},"messages":[{"role":"user","content":"Oslo?"}]}""");

        Assert.Equal(200, status);
        var call = JsonNode.Parse(body)!["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.Equal("toolu_07", (string?)call["id"]);

        var second = $$"""
            {"model":"{{Model}}","tools":{{tools}},"messages":[{"role":"user","content":"Oslo?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_07","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"} }]},
              {"role":"tool","tool_call_id":"toolu_07","content":"Rain"}]}
            """;
        (status, body) = await setup.PostAsync("/v1/chat/completions", second);

        Assert.Equal(200, status);
        Assert.Equal("Hello from Claude", (string?)JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]);
        var sent = setup.Upstream.Messages[1].Json!;
        Assert.Equal("proxy_get_weather", (string?)sent["messages"]![1]!["content"]![0]!["name"]);
        Assert.Equal("toolu_07", (string?)sent["messages"]![2]!["content"]![0]!["tool_use_id"]);
    }

    [Fact]
    public async Task Count_tokens_passes_through_to_anthropic()
    {
        await using var setup = await StartAsync();
        var (status, body) = await setup.PostAsync("/v1/messages/count_tokens", $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, status);
        Assert.Equal(42, (int)JsonNode.Parse(body)!["input_tokens"]!);
        Assert.Equal("/v1/messages/count_tokens", Assert.Single(setup.Upstream.Requests).Path);
    }

    [Fact]
    public async Task A_429_on_one_account_moves_to_the_next()
    {
        await using var setup = await StartAsync(accounts: 2);
        setup.Upstreams[0].Enqueue(AnthropicReplies.RateLimited("Number of requests has exceeded your rate limit", new Dictionary<string, string> { ["retry-after"] = "30" }));

        var (status, body) = await setup.PostAsync("/v1/chat/completions", Chat(false));

        Assert.Equal(200, status);
        Assert.Contains("Hello from Claude", body);
        Assert.Single(setup.Upstreams[0].Messages);
        Assert.Single(setup.Upstreams[1].Messages);
    }

    [Fact]
    public async Task A_unified_window_429_cools_the_whole_account_for_every_model()
    {
        await using var setup = await StartAsync(accounts: 2);
        setup.Upstreams[0].Enqueue(AnthropicReplies.RateLimited("rate limited", new Dictionary<string, string>
        {
            ["anthropic-ratelimit-unified-status"] = "rejected", ["anthropic-ratelimit-unified-representative-claim"] = "five_hour",
            ["anthropic-ratelimit-unified-reset"] = DateTimeOffset.UtcNow.AddHours(3).ToUnixTimeSeconds().ToString(),
        }));

        Assert.Equal(200, (await setup.PostAsync("/v1/chat/completions", Chat(false))).Status);
        // Another model: the first account is skipped without being asked.
        var other = """{"model":"claude-opus-4-6","messages":[{"role":"user","content":"hi"}]}""";
        Assert.Equal(200, (await setup.PostAsync("/v1/chat/completions", other)).Status);
        Assert.Equal(200, (await setup.PostAsync("/v1/chat/completions", other)).Status);

        Assert.Single(setup.Upstreams[0].Messages);
        Assert.Equal(3, setup.Upstreams[1].Messages.Count);
    }

    [Fact]
    public async Task A_per_model_429_leaves_the_account_serving_other_models()
    {
        await using var setup = await StartAsync(accounts: 2);
        setup.Upstreams[0].Enqueue(AnthropicReplies.RateLimited("Number of requests has exceeded your rate limit", new Dictionary<string, string> { ["retry-after"] = "600" }));

        Assert.Equal(200, (await setup.PostAsync("/v1/chat/completions", Chat(false))).Status);
        var other = """{"model":"claude-opus-4-6","messages":[{"role":"user","content":"hi"}]}""";
        Assert.Equal(200, (await setup.PostAsync("/v1/chat/completions", other)).Status);

        Assert.Equal(2, setup.Upstreams[0].Messages.Count); // fill-first: back on the first account for the other model
        Assert.Single(setup.Upstreams[1].Messages);
    }

    [Fact]
    public async Task The_anthropic_sdk_streams_through_passthrough()
    {
        await using var setup = await StartAsync();
        using var client = new AnthropicClient { ApiKey = ClientKey, BaseUrl = setup.BaseUrl, MaxRetries = 0 };

        var text = new StringBuilder();
        await foreach (var e in client.Messages.CreateStreaming(new MessageCreateParams { Model = Model, MaxTokens = 64, Messages = [new UserMessageParam { Content = "hi" }] }))
            if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var t)) text.Append(t.Text);

        Assert.Equal("Hello from Claude", text.ToString());
        var sent = Assert.Single(setup.Upstream.Messages);
        Assert.Equal("Bearer sk-ant-oat01-account0", sent.Header("authorization"));
        // Not Claude Code: cloaked.
        Assert.Equal("You are Claude Code, Anthropic's official CLI for Claude.", (string?)sent.Json!["system"]![0]!["text"]);
    }

    [Fact]
    public async Task The_openai_sdk_is_translated()
    {
        await using var setup = await StartAsync();
        var chat = new ChatClient(Model, new ApiKeyCredential(ClientKey), new OpenAIClientOptions { Endpoint = new Uri(setup.BaseUrl + "/v1") });

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hello from Claude", completion.Content[0].Text);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(7, completion.Usage.OutputTokenCount);
    }
}
