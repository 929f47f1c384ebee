using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>OpenAI chat and legacy completions clients through the server to the OpenAI-compatible fake.</summary>
public sealed class ChatCompletionsEndToEndTests
{
    private const string WeatherTool = """{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""";

    [Fact]
    public async Task Chat_answer_has_text_reasoning_usage_and_finish_reason_and_the_upstream_gets_its_model_and_key()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Bonjour !").WithReasoning("A greeting is asked for.").WithUsage(new FakeUsage(12, 8, Cached: 4, Reasoning: 3)));

        var (status, body, _) = await proxy.PostAsync("/v1/chat/completions",
            """{"model":"client-model","messages":[{"role":"user","content":"Say hi in French"}]}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal("chat.completion", (string?)json["object"]);
        var choice = json["choices"]![0]!;
        Assert.Equal("Bonjour !", (string?)choice["message"]!["content"]);
        Assert.Equal("A greeting is asked for.", (string?)choice["message"]!["reasoning_content"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.Equal(12, (int)json["usage"]!["prompt_tokens"]!);
        Assert.Equal(8, (int)json["usage"]!["completion_tokens"]!);
        Assert.Equal(20, (int)json["usage"]!["total_tokens"]!);

        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal("Bearer " + OpenAICompatProxy.UpstreamKey, upstream.Header("authorization"));
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)upstream.Json!["model"]);
        Assert.Equal("Say hi in French", (string?)upstream.Json["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task Chat_stream_delivers_parallel_tool_calls_with_their_arguments_then_usage_and_done()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_w", "get_weather", """{"city":"Paris"}"""), ("call_t", "get_time", """{"zone":"Europe/Paris"}"""))
            .WithUsage(new FakeUsage(30, 14)));

        var (status, body, response) = await proxy.PostAsync("/v1/chat/completions",
            $$"""{"model":"client-model","stream":true,"stream_options":{"include_usage":true},"tools":[{{WeatherTool}}],"messages":[{"role":"user","content":"Weather and time in Paris?"}]}""");

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ClientWire.Sse(body);
        Assert.True(events[^1].IsDone);
        var chunks = events.Where(e => !e.IsDone).Select(e => e.Data!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        var calls = new SortedDictionary<int, (string? Id, string? Name, string Args)>();
        string? finish = null;
        foreach (var choice in chunks.SelectMany(c => c["choices"]!.AsArray()))
        {
            finish = (string?)choice!["finish_reason"] ?? finish;
            foreach (var call in choice["delta"]?["tool_calls"]?.AsArray() ?? [])
            {
                var index = (int)call!["index"]!;
                var known = calls.GetValueOrDefault(index, (null, null, ""));
                calls[index] = ((string?)call["id"] ?? known.Id, (string?)call["function"]?["name"] ?? known.Name, known.Args + (string?)call["function"]?["arguments"]);
            }
        }
        Assert.Equal("tool_calls", finish);
        Assert.Equal([("call_w", "get_weather", """{"city":"Paris"}"""), ("call_t", "get_time", """{"zone":"Europe/Paris"}""")], calls.Values.Select(c => (c.Id, c.Name, c.Args)));
        var usage = chunks.Last(c => c["usage"] is JsonObject)["usage"]!;
        Assert.Equal(30, (int)usage["prompt_tokens"]!);
        Assert.Equal(14, (int)usage["completion_tokens"]!);
    }

    [Fact]
    public async Task Chat_two_turn_tool_loop_sends_the_tool_result_upstream_and_returns_the_final_answer()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_1", "get_weather", """{"city":"Oslo"}""")), ChatReply.Text("It is 4 °C in Oslo."));

        var (_, first, _) = await proxy.PostAsync("/v1/chat/completions",
            $$"""{"model":"client-model","tools":[{{WeatherTool}}],"messages":[{"role":"user","content":"Weather in Oslo?"}]}""");
        var call = ClientWire.Object(first)["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        JsonAssert.Equal("""{"city":"Oslo"}""", JsonNode.Parse((string)call["function"]!["arguments"]!));

        var (status, second, _) = await proxy.PostAsync("/v1/chat/completions", $$"""
            {"model":"client-model","tools":[{{WeatherTool}}],"messages":[
              {"role":"user","content":"Weather in Oslo?"},
              {"role":"assistant","content":null,"tool_calls":[{{call.ToJsonString()}}]},
              {"role":"tool","tool_call_id":"{{(string?)call["id"]}}","content":"{\"temp_c\":4}"}]}
            """);

        Assert.Equal(200, status);
        Assert.Equal("It is 4 °C in Oslo.", (string?)ClientWire.Object(second)["choices"]![0]!["message"]!["content"]);
        var messages = proxy.Upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        Assert.Equal("call_1", (string?)messages[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("tool", (string?)messages[2]!["role"]);
        Assert.Equal("call_1", (string?)messages[2]!["tool_call_id"]);
        Assert.Equal("""{"temp_c":4}""", (string?)messages[2]!["content"]);
    }

    [Fact]
    public async Task Legacy_completion_is_served_through_chat_with_text_finish_reason_and_usage()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Once upon a time").WithFinish("length").WithUsage(new FakeUsage(5, 4)));

        var (status, body, _) = await proxy.PostAsync("/v1/completions", """{"model":"client-model","prompt":"Tell a story","max_tokens":4}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal("text_completion", (string?)json["object"]);
        Assert.Equal("Once upon a time", (string?)json["choices"]![0]!["text"]);
        Assert.Equal("length", (string?)json["choices"]![0]!["finish_reason"]);
        Assert.Equal(9, (int)json["usage"]!["total_tokens"]!);
        var upstream = Assert.Single(proxy.Upstream.ChatRequests).Json!;
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)upstream["model"]);
        Assert.Equal("user", (string?)upstream["messages"]![0]!["role"]);
        Assert.Equal("Tell a story", (string?)upstream["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task Legacy_completion_stream_sends_text_chunks_a_finish_reason_and_done()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Once", " upon", " a time"));

        var (status, body, _) = await proxy.PostAsync("/v1/completions", """{"model":"client-model","prompt":"Tell a story","stream":true}""");

        Assert.Equal(200, status);
        var events = ClientWire.Sse(body);
        Assert.True(events[^1].IsDone);
        var chunks = events.Where(e => !e.IsDone).Select(e => e.Data!).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", (string?)c["object"]));
        Assert.Equal("Once upon a time", string.Concat(chunks.Select(c => (string?)c["choices"]?[0]?["text"])));
        Assert.Equal("stop", (string?)chunks.Last(c => c["choices"]?[0]?["finish_reason"] is JsonValue)["choices"]![0]!["finish_reason"]);
        Assert.True((bool)Assert.Single(proxy.Upstream.ChatRequests).Json!["stream"]!);
    }
}
