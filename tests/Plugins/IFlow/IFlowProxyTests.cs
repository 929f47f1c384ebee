using System.Text.Json.Nodes;
using PluginProxy.Tests.Plugins.Qwen;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.IFlow;

/// <summary>
/// An iFlow account served through the real server with the built plugin: every client dialect, streaming and not, a
/// tool loop on a thinking model with iFlow's thinking switch on the wire, and the per-family switches.
/// </summary>
public sealed class IFlowProxyTests
{
    private const string ApiKey = "sk-iflow-key-1";

    private static async Task<(TestServer Server, FakeOpenAIUpstream Upstream)> StartAsync(string? baseUrl = null)
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        var credential = new JsonObject
        {
            ["type"] = "iflow", ["email"] = "flow@example.test", ["api_key"] = ApiKey, ["access_token"] = "oauth-token-not-for-api",
            ["refresh_token"] = "r", ["cookie"] = "",
        };
        if (baseUrl is not null) credential["base_url"] = baseUrl;
        var server = await TestServer.StartAsync($"""
            providers:
              iflow:
                api-url: "{upstream.BaseUrl}"
                token-url: "{upstream.BaseUrl}/oauth/token"
                user-info-url: "{upstream.BaseUrl}/userinfo"
                platform-url: "{upstream.BaseUrl}/apikey"
            """,
            root => File.WriteAllText(Path.Combine(root, "auths", "iflow-flow@example.test-1.json"), credential.ToJsonString()),
            pluginsFolder: BuiltPlugins.Folder);
        return (server, upstream);
    }

    [Theory]
    [MemberData(nameof(QwenProxyTests.Dialects), MemberType = typeof(QwenProxyTests))]
    public async Task Every_dialect_runs_a_tool_loop_on_a_thinking_model_with_the_switch_on(ClientDialect dialect, bool stream)
    {
        const string model = "glm-4.6";
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(
            ChatReply.ToolCalls((DialectDriver.CallId, DialectDriver.ToolName, """{"city":"Bern"}""")).WithReasoning("Need the weather", " tool."),
            ChatReply.Text("It is 12 °C", " in Bern."));

        var first = DialectDriver.Read(dialect, stream,
            await DialectDriver.SendAsync(server, dialect, model, stream, DialectDriver.Ask(dialect, model, stream, think: true)));
        var second = DialectDriver.Read(dialect, stream, await DialectDriver.SendAsync(server, dialect, model, stream, DialectDriver.Answer(dialect, model, stream)));

        Assert.Equal([DialectDriver.ToolName], first.ToolCalls);
        Assert.Equal("Need the weather tool.", first.Reasoning);
        Assert.Equal("It is 12 °C in Bern.", second.Text);

        var asked = upstream.ChatRequests[0];
        Assert.Equal("Bearer " + ApiKey, asked.Header("Authorization")); // the API key, never the OAuth token
        Assert.Equal("iFlow-Cli", asked.Header("User-Agent"));
        Assert.Equal(model, (string?)asked.Json!["model"]);
        Assert.True((bool?)asked.Json["chat_template_kwargs"]?["enable_thinking"]);
        Assert.False((bool?)asked.Json["chat_template_kwargs"]?["clear_thinking"]);
        Assert.Null(asked.Json["reasoning_effort"]);
        if (stream) Assert.True((bool?)asked.Json["stream_options"]?["include_usage"]);

        var messages = upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        var assistant = messages.Single(m => (string?)m!["role"] == "assistant")!;
        var tool = messages.Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal((string?)assistant["tool_calls"]![0]!["id"], (string?)tool["tool_call_id"]);
        Assert.Equal("Bearer " + ApiKey, upstream.ChatRequests[1].Header("Authorization"));
    }

    [Theory]
    [InlineData("glm-4.7", "high", """{"chat_template_kwargs":{"enable_thinking":true,"clear_thinking":false}}""")]
    [InlineData("glm-4.7", "none", """{"chat_template_kwargs":{"enable_thinking":false}}""")]
    [InlineData("deepseek-v3.2", "low", """{"chat_template_kwargs":{"enable_thinking":true}}""")]
    [InlineData("qwen3-max-preview", "none", """{"chat_template_kwargs":{"enable_thinking":false}}""")]
    [InlineData("minimax-m2.1", "medium", """{"reasoning_split":true}""")]
    [InlineData("minimax-m2", "none", """{"reasoning_split":false}""")]
    [InlineData("kimi-k2.5", "high", """{"reasoning_effort":"high"}""")]
    [InlineData("glm-4.6", null, "{}")]
    public async Task Each_model_family_gets_its_own_thinking_switch(string model, string? effort, string expected)
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(ChatReply.Text("ok"));
        var body = DialectDriver.Ask(ClientDialect.Chat, model, false, tools: false);
        if (effort is not null) body["reasoning_effort"] = effort;

        await DialectDriver.SendAsync(server, ClientDialect.Chat, model, false, body);

        var sent = Assert.Single(upstream.ChatRequests).Json!;
        var thinking = new JsonObject();
        foreach (var key in new[] { "chat_template_kwargs", "reasoning_split", "reasoning_effort" })
            if (sent[key] is { } value) thinking[key] = value.DeepClone();
        JsonAssert.Equal(expected, thinking);
    }

    [Fact]
    public async Task A_stream_with_an_empty_tools_list_gets_the_noop_placeholder()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(ChatReply.Text("Hi"), ChatReply.Text("Hi"));
        var body = DialectDriver.Ask(ClientDialect.Chat, "qwen3-max", true, tools: false);
        body["tools"] = new JsonArray();

        Assert.Equal("Hi", DialectDriver.Read(ClientDialect.Chat, true, await DialectDriver.SendAsync(server, ClientDialect.Chat, "qwen3-max", true, body)).Text);
        await DialectDriver.SendAsync(server, ClientDialect.Chat, "qwen3-max", true, DialectDriver.Ask(ClientDialect.Chat, "qwen3-max", true, tools: false));

        Assert.Equal("noop", (string?)Assert.Single(upstream.ChatRequests[0].Json!["tools"]!.AsArray())!["function"]!["name"]);
        Assert.Null(upstream.ChatRequests[1].Json!["tools"]); // no tools at all stays so
    }

    [Fact]
    public async Task A_credential_base_url_wins_over_the_setting()
    {
        await using var own = await FakeOpenAIUpstream.StartAsync("/own/v1");
        var (server, upstream) = await StartAsync(baseUrl: own.BaseUrl);
        await using var _ = server;
        await using var __ = upstream;
        own.Enqueue(ChatReply.Text("from base_url"));

        var answer = DialectDriver.Read(ClientDialect.Anthropic, false,
            await DialectDriver.SendAsync(server, ClientDialect.Anthropic, "kimi-k2", false, DialectDriver.Ask(ClientDialect.Anthropic, "kimi-k2", false)));

        Assert.Equal("from base_url", answer.Text);
        Assert.Empty(upstream.ChatRequests);
    }

    [Fact]
    public async Task An_upstream_401_is_reported_and_the_key_never_reaches_the_client_or_the_log()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.RespondWith(_ => FakeReply.Error(401, """{"error":{"message":"Invalid API key","type":"authentication_error"}}"""));

        using var response = await server.PostJsonAsync("/v1/messages", DialectDriver.Ask(ClientDialect.Anthropic, "kimi-k2", false).ToJsonString());
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Contains("Invalid API key", text);
        Assert.DoesNotContain(ApiKey, text);
        Assert.DoesNotContain(ApiKey, server.Logs);
    }

    [Fact]
    public async Task Count_tokens_is_answered_locally()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;

        using var response = await server.PostJsonAsync("/v1/messages/count_tokens", """{"model":"glm-4.6","messages":[{"role":"user","content":"hello world"}]}""");

        Assert.Equal(8, (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["input_tokens"]!);
        Assert.Empty(upstream.Requests);
    }
}
