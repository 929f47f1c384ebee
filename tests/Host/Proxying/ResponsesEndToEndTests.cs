using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>OpenAI Responses clients through the server to the OpenAI-compatible fake (translated).</summary>
public sealed class ResponsesEndToEndTests
{
    private const string WeatherTool = """{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}""";

    [Fact]
    public async Task Response_has_reasoning_message_and_usage_and_the_upstream_gets_a_chat_request()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hej!").WithReasoning("Swedish greeting.").WithUsage(new FakeUsage(20, 9, Cached: 5, Reasoning: 3)));

        var (status, body, _) = await proxy.PostAsync("/v1/responses",
            """{"model":"client-model","instructions":"Be brief.","input":"Say hi in Swedish"}""");

        Assert.Equal(200, status);
        var json = ClientWire.Object(body);
        Assert.Equal("response", (string?)json["object"]);
        Assert.Equal("completed", (string?)json["status"]);
        var output = json["output"]!.AsArray();
        Assert.Equal(["reasoning", "message"], output.Select(o => (string?)o!["type"]));
        Assert.Equal("Swedish greeting.", (string?)output[0]!["summary"]![0]!["text"]);
        Assert.Equal("Hej!", (string?)output[1]!["content"]![0]!["text"]);
        Assert.Equal("output_text", (string?)output[1]!["content"]![0]!["type"]);
        JsonAssert.Equal("""{"input_tokens":20,"input_tokens_details":{"cached_tokens":5},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":29}""", json["usage"]);

        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal("Bearer " + OpenAICompatProxy.UpstreamKey, upstream.Header("authorization"));
        var messages = upstream.Json!["messages"]!.AsArray();
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)upstream.Json["model"]);
        Assert.Equal("Be brief.", (string?)messages[0]!["content"]);
        Assert.Equal("user", (string?)messages[1]!["role"]);
        Assert.Contains("Say hi in Swedish", messages[1]!["content"]!.ToJsonString());
    }

    [Fact]
    public async Task Parallel_tool_calls_become_function_call_items()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_a", "get_weather", """{"city":"Rome"}"""), ("call_b", "get_weather", """{"city":"Milan"}""")));

        var (status, body, _) = await proxy.PostAsync("/v1/responses",
            $$"""{"model":"client-model","tools":[{{WeatherTool}}],"input":"Weather in Rome and Milan?"}""");

        Assert.Equal(200, status);
        var calls = ClientWire.Object(body)["output"]!.AsArray().Where(o => (string?)o!["type"] == "function_call").ToList();
        Assert.Equal(["call_a", "call_b"], calls.Select(c => (string?)c!["call_id"]));
        Assert.All(calls, c => Assert.Equal("get_weather", (string?)c!["name"]));
        JsonAssert.Equal("""{"city":"Milan"}""", JsonNode.Parse((string)calls[1]!["arguments"]!));
        Assert.Equal("get_weather", (string?)proxy.Upstream.ChatRequests[0].Json!["tools"]![0]!["function"]!["name"]);
    }

    [Fact]
    public async Task Length_finish_makes_the_response_incomplete()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Once upon").WithFinish("length"));

        var (_, body, _) = await proxy.PostAsync("/v1/responses", """{"model":"client-model","input":"Tell a story","max_output_tokens":16}""");

        var json = ClientWire.Object(body);
        Assert.Equal("incomplete", (string?)json["status"]);
        Assert.Equal("max_output_tokens", (string?)json["incomplete_details"]!["reason"]);
        Assert.Equal(16, (int)proxy.Upstream.ChatRequests[0].Json!["max_tokens"]!);
    }

    [Fact]
    public async Task Text_stream_follows_the_responses_event_sequence_and_completes_with_usage()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hello", " world").WithUsage(new FakeUsage(7, 2)));

        var (status, body, response) = await proxy.PostAsync("/v1/responses", """{"model":"client-model","input":"hi","stream":true}""");

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ClientWire.Sse(body);
        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed",
        ], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(e.Name, e.Type)); // event: lines match the data's type
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data!["sequence_number"]!));
        Assert.Equal("Hello world", (string?)events.Single(e => e.Type == "response.output_text.done").Data!["text"]);
        var completed = events[^1].Data!["response"]!;
        Assert.Equal("completed", (string?)completed["status"]);
        Assert.Equal(7, (int)completed["usage"]!["input_tokens"]!);
        Assert.Equal(2, (int)completed["usage"]!["output_tokens"]!);
        Assert.Equal("Hello world", (string?)completed["output"]![0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Tool_call_stream_sends_argument_deltas_and_a_completed_function_call_item()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_9", "get_weather", """{"city":"Lima"}""")));

        var (_, body, _) = await proxy.PostAsync("/v1/responses",
            $$"""{"model":"client-model","stream":true,"tools":[{{WeatherTool}}],"input":"Weather in Lima?"}""");

        var events = ClientWire.Sse(body);
        var added = events.Single(e => e.Type == "response.output_item.added").Data!["item"]!;
        Assert.Equal("function_call", (string?)added["type"]);
        Assert.Equal("call_9", (string?)added["call_id"]);
        var deltas = events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => (string?)e.Data!["delta"]);
        Assert.Equal("""{"city":"Lima"}""", string.Concat(deltas));
        Assert.Equal("""{"city":"Lima"}""", (string?)events.Single(e => e.Type == "response.function_call_arguments.done").Data!["arguments"]);
        var done = events.Single(e => e.Type == "response.output_item.done").Data!["item"]!;
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal("get_weather", (string?)done["name"]);
        Assert.Equal("response.completed", events[^1].Type);
    }

    [Fact]
    public async Task Two_turn_tool_loop_sends_function_call_output_upstream_as_a_tool_message()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_7", "get_weather", """{"city":"Kyiv"}""")), ChatReply.Text("Sunny in Kyiv."));

        var (_, first, _) = await proxy.PostAsync("/v1/responses",
            $$"""{"model":"client-model","tools":[{{WeatherTool}}],"input":"Weather in Kyiv?"}""");
        var call = ClientWire.Object(first)["output"]!.AsArray().Single(o => (string?)o!["type"] == "function_call")!;

        var (status, second, _) = await proxy.PostAsync("/v1/responses", $$"""
            {"model":"client-model","tools":[{{WeatherTool}}],"input":[
              {"role":"user","content":"Weather in Kyiv?"},
              {{call.ToJsonString()}},
              {"type":"function_call_output","call_id":"{{(string?)call["call_id"]}}","output":"sunny"}]}
            """);

        Assert.Equal(200, status);
        Assert.Equal("Sunny in Kyiv.", (string?)ClientWire.Object(second)["output"]!.AsArray().Single(o => (string?)o!["type"] == "message")!["content"]![0]!["text"]);
        var messages = proxy.Upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        var assistant = messages.Single(m => (string?)m!["role"] == "assistant")!;
        Assert.Equal("call_7", (string?)assistant["tool_calls"]![0]!["id"]);
        JsonAssert.Equal("""{"city":"Kyiv"}""", JsonNode.Parse((string)assistant["tool_calls"]![0]!["function"]!["arguments"]!));
        var tool = messages.Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal("call_7", (string?)tool["tool_call_id"]);
        Assert.Equal("sunny", (string?)tool["content"]);
    }
}
