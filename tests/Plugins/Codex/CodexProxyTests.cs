using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Codex;

/// <summary>Real clients through the server to a ChatGPT Codex account on a fake backend.</summary>
public sealed class CodexProxyTests : IAsyncLifetime
{
    private const string ClientKey = "client-key-codex";
    private FakeCodex _codex = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _codex = await FakeCodex.StartAsync();
        _server = await TestServer.StartAsync($"""
            api-keys: ["{ClientKey}"]
            providers:
              codex:
                api-url: "{_codex.BaseUrl}"
            """, root => File.WriteAllText(Path.Combine(root, "auths", "codex-a@b.test-plus.json"), CodexCredentials.AuthFile()),
            clientKey: ClientKey, pluginsFolder: CodexPluginUnderTest.Folder);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _codex.DisposeAsync();
    }

    private Uri V1 => new(_server.Address, "/v1");
    private ResponsesClient Responses() => new(new ApiKeyCredential(ClientKey), new ResponsesClientOptions { Endpoint = V1 });

    [Fact]
    public async Task OpenAI_SDK_Responses_without_streaming_gets_the_aggregated_answer()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi", " from", " Codex"])));

        ResponseResult response = await Responses().CreateResponseAsync("gpt-5-codex", "hi");

        Assert.Equal("Hi from Codex", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(13, response.Usage.TotalTokenCount);
        var sent = Assert.Single(_codex.Requests);
        Assert.True((bool)sent.Json!["stream"]!);
        Assert.False((bool)sent.Json!["store"]!);
        Assert.Equal("Bearer at-oauth-123456", sent.Header("authorization"));
        Assert.Equal("acct-123", sent.Header("chatgpt-account-id"));
    }

    [Fact]
    public async Task OpenAI_SDK_Responses_streams()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi", " from", " Codex"])));

        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await Responses().CreateResponseStreamingAsync("gpt-5-codex", "hi"))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
        }

        Assert.Equal("Hi from Codex", text.ToString());
        Assert.Equal("Hi from Codex", completed?.GetOutputText());
    }

    [Fact]
    public async Task OpenAI_SDK_Chat_Completions_is_translated_and_aggregated()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hello", " chat"])));
        var chat = new ChatClient("gpt-5-codex", new ApiKeyCredential(ClientKey), new OpenAIClientOptions { Endpoint = V1 });

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50, Temperature = 0.5f });

        Assert.Equal("Hello chat", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        var body = Assert.Single(_codex.Requests).Json!;
        Assert.Equal("Be brief.", (string?)body["instructions"]);
        Assert.False(body.ContainsKey("temperature"));
        Assert.False(body.ContainsKey("max_output_tokens"));
    }

    [Fact]
    public async Task An_Anthropic_client_runs_a_two_turn_tool_loop()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.ToolCall("call_w1", "get_weather", """{"city":"Bern"}""")), CodexSse.Reply(CodexSse.Text(["12 °C in Bern."])));
        const string Tools = """[{"name":"get_weather","description":"Current weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]""";

        var first = await MessagesAsync($$"""
            {"model":"gpt-5-codex","max_tokens":200,"tools":{{Tools}},"thinking":{"type":"enabled","budget_tokens":30000},
             "messages":[{"role":"user","content":"Weather in Bern?"}]}
            """);
        Assert.Equal("tool_use", (string?)first["stop_reason"]);
        var use = first["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_use")!;
        Assert.Equal("call_w1", (string?)use["id"]);
        Assert.Equal("Bern", (string?)use["input"]!["city"]);

        var second = await MessagesAsync($$$"""
            {"model":"gpt-5-codex","max_tokens":200,"tools":{{{Tools}}},
             "messages":[{"role":"user","content":"Weather in Bern?"},
                         {"role":"assistant","content":[{"type":"tool_use","id":"call_w1","name":"get_weather","input":{"city":"Bern"}}]},
                         {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_w1","content":"12 C"}]}]}
            """);
        Assert.Equal("end_turn", (string?)second["stop_reason"]);
        Assert.Equal("12 °C in Bern.", (string?)second["content"]!.AsArray().Single(b => (string?)b!["type"] == "text")!["text"]);

        Assert.Equal("high", (string?)_codex.Requests[0].Json!["reasoning"]!["effort"]);
        var input = _codex.Requests[1].Json!["input"]!.AsArray();
        var call = input.Single(i => (string?)i!["type"] == "function_call")!;
        var output = input.Single(i => (string?)i!["type"] == "function_call_output")!;
        Assert.Equal("call_w1", (string?)call["call_id"]);
        Assert.Equal("call_w1", (string?)output["call_id"]);
        Assert.Equal("get_weather", (string?)_codex.Requests[1].Json!["tools"]![0]!["name"]);
    }

    private async Task<JsonObject> MessagesAsync(string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("anthropic-version", "2023-06-01");
        using var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task A_usage_limit_cools_the_whole_account_so_another_model_is_not_tried_on_it()
    {
        _codex.Enqueue(FakeReply_.UsageLimit);

        using var limited = await _server.PostJsonAsync("/v1/responses", """{"model":"gpt-5-codex","input":"hi"}""");
        using var other = await _server.PostJsonAsync("/v1/responses", """{"model":"gpt-5.1","input":"hi"}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, other.StatusCode);
        Assert.Single(_codex.Requests); // the second model never reached the cooling account
        var retryAfter = other.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 3000, 3600);
    }

    private static class FakeReply_
    {
        public static Support.Fakes.FakeReply UsageLimit => Support.Fakes.FakeReply.Error(429,
            """{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_in_seconds":3600}}""");
    }
}
