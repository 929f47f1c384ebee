using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Anthropic Messages clients through the server to the OpenAI-compatible fake (translated).</summary>
public sealed class AnthropicEndToEndTests
{
    private const string WeatherTool = """{"name":"get_weather","description":"Current weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}""";

    [Fact]
    public async Task Message_has_thinking_text_usage_and_stop_reason_and_the_upstream_gets_a_chat_request()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Ciao!").WithReasoning("Italian greeting.").WithUsage(new FakeUsage(20, 9, Cached: 5)));

        var (status, body, _) = await proxy.PostAsync("/v1/messages",
            """{"model":"client-model","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"Say hi in Italian"}]}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal("message", (string?)json["type"]);
        Assert.Equal("assistant", (string?)json["role"]);
        var content = json["content"]!.AsArray();
        Assert.Equal(["thinking", "text"], content.Select(c => (string?)c!["type"]));
        Assert.Equal("Italian greeting.", (string?)content[0]!["thinking"]);
        Assert.Equal("Ciao!", (string?)content[1]!["text"]);
        Assert.Equal("end_turn", (string?)json["stop_reason"]);
        // Anthropic's input_tokens excludes cache reads.
        Assert.Equal(15, (int)json["usage"]!["input_tokens"]!);
        Assert.Equal(5, (int)json["usage"]!["cache_read_input_tokens"]!);
        Assert.Equal(9, (int)json["usage"]!["output_tokens"]!);

        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal("Bearer " + OpenAICompatProxy.UpstreamKey, upstream.Header("authorization"));
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)upstream.Json!["model"]);
        Assert.Equal(256, (int)upstream.Json["max_tokens"]!);
        var messages = upstream.Json["messages"]!.AsArray();
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Equal("Be brief.", (string?)messages[0]!["content"]);
        Assert.Equal("Say hi in Italian", (string?)messages[1]!["content"]);
    }

    [Fact]
    public async Task Parallel_tool_calls_become_tool_use_blocks_with_parsed_input()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_a", "get_weather", """{"city":"Rome"}"""), ("call_b", "get_weather", """{"city":"Milan"}""")));

        var (status, body, _) = await proxy.PostAsync("/v1/messages",
            $$"""{"model":"client-model","max_tokens":100,"tools":[{{WeatherTool}}],"messages":[{"role":"user","content":"Rome and Milan?"}]}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal("tool_use", (string?)json["stop_reason"]);
        var uses = json["content"]!.AsArray();
        Assert.Equal(["call_a", "call_b"], uses.Select(u => (string?)u!["id"]));
        Assert.All(uses, u => Assert.Equal("tool_use", (string?)u!["type"]));
        JsonAssert.Equal("""{"city":"Milan"}""", uses[1]!["input"]);
        var tool = proxy.Upstream.ChatRequests[0].Json!["tools"]![0]!["function"]!;
        Assert.Equal("get_weather", (string?)tool["name"]);
        Assert.Equal("object", (string?)tool["parameters"]!["type"]);
    }

    [Fact]
    public async Task Length_finish_is_max_tokens()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Once upon").WithFinish("length"));

        var (_, body, _) = await proxy.PostAsync("/v1/messages", """{"model":"client-model","max_tokens":2,"messages":[{"role":"user","content":"Tell a story"}]}""");

        Assert.Equal("max_tokens", (string?)ClientWire.Object(body)["stop_reason"]);
    }

    [Fact]
    public async Task Text_stream_follows_the_messages_event_sequence_with_usage_in_message_delta()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hello", " world").WithUsage(new FakeUsage(7, 2)));

        var (status, body, response) = await proxy.PostAsync("/v1/messages",
            """{"model":"client-model","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ClientWire.Sse(body);
        Assert.Equal(
        [
            "message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(e.Name, e.Type)); // the SDKs drop events without an event: line
        Assert.Equal("Hello world", string.Concat(events.Where(e => e.Type == "content_block_delta").Select(e => (string?)e.Data!["delta"]!["text"])));
        var delta = events.Single(e => e.Type == "message_delta").Data!;
        Assert.Equal("end_turn", (string?)delta["delta"]!["stop_reason"]);
        Assert.Equal(2, (int)delta["usage"]!["output_tokens"]!);
        Assert.Equal(7, (int)delta["usage"]!["input_tokens"]!);
    }

    [Fact]
    public async Task Tool_call_stream_sends_tool_use_blocks_with_input_json_deltas()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Checking.").WithToolCall("call_a", "get_weather", """{"city":"Rome"}""").WithToolCall("call_b", "get_weather", """{"city":"Milan"}"""));

        var (_, body, _) = await proxy.PostAsync("/v1/messages",
            $$"""{"model":"client-model","max_tokens":100,"stream":true,"tools":[{{WeatherTool}}],"messages":[{"role":"user","content":"Rome and Milan?"}]}""");

        var events = ClientWire.Sse(body);
        var starts = events.Where(e => e.Type == "content_block_start").Select(e => e.Data!).ToList();
        Assert.Equal(["text", "tool_use", "tool_use"], starts.Select(s => (string?)s["content_block"]!["type"]));
        Assert.Equal([0, 1, 2], starts.Select(s => (int)s["index"]!));
        Assert.Equal(["call_a", "call_b"], starts.Skip(1).Select(s => (string?)s["content_block"]!["id"]));
        foreach (var (index, city) in new[] { (1, "Rome"), (2, "Milan") })
        {
            var json = string.Concat(events.Where(e => e.Type == "content_block_delta" && (int)e.Data!["index"]! == index)
                .Select(e => (string?)e.Data!["delta"]!["partial_json"]));
            JsonAssert.Equal($$"""{"city":"{{city}}"}""", JsonNode.Parse(json));
        }
        Assert.Equal("tool_use", (string?)events.Single(e => e.Type == "message_delta").Data!["delta"]!["stop_reason"]);
        Assert.Equal("message_stop", events[^1].Type);
    }

    [Fact]
    public async Task Two_turn_tool_loop_sends_the_tool_result_upstream_as_a_tool_message()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_5", "get_weather", """{"city":"Cairo"}""")), ChatReply.Text("Hot in Cairo."));

        var (_, first, _) = await proxy.PostAsync("/v1/messages",
            $$"""{"model":"client-model","max_tokens":100,"tools":[{{WeatherTool}}],"messages":[{"role":"user","content":"Weather in Cairo?"}]}""");
        var use = ClientWire.Object(first)["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_use")!;

        var (status, second, _) = await proxy.PostAsync("/v1/messages", $$"""
            {"model":"client-model","max_tokens":100,"tools":[{{WeatherTool}}],"messages":[
              {"role":"user","content":"Weather in Cairo?"},
              {"role":"assistant","content":[{{use.ToJsonString()}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"{{(string?)use["id"]}}","content":"38 C"}]}]}
            """);

        Assert.Equal(200, status);
        Assert.Equal("Hot in Cairo.", (string?)ClientWire.Object(second)["content"]![0]!["text"]);
        var messages = proxy.Upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        var assistant = messages.Single(m => (string?)m!["role"] == "assistant")!;
        Assert.Equal("call_5", (string?)assistant["tool_calls"]![0]!["id"]);
        JsonAssert.Equal("""{"city":"Cairo"}""", JsonNode.Parse((string)assistant["tool_calls"]![0]!["function"]!["arguments"]!));
        var tool = messages.Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal("call_5", (string?)tool["tool_call_id"]);
        Assert.Contains("38 C", tool["content"]!.ToJsonString());
    }

    [Fact]
    public async Task Count_tokens_answers_input_tokens_without_calling_the_upstream()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();

        var (status, body, _) = await proxy.PostAsync("/v1/messages/count_tokens",
            """{"model":"client-model","messages":[{"role":"user","content":"How many tokens is this sentence, roughly speaking?"}]}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal(["input_tokens"], json.Select(p => p.Key));
        Assert.InRange((int)json["input_tokens"]!, 1, 100);
        Assert.Empty(proxy.Upstream.Requests); // OpenAI-compatible services have no count endpoint: estimated locally
    }
}
