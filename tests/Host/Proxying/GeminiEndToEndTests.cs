using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Gemini generateContent clients through the server to the OpenAI-compatible fake (translated).</summary>
public sealed class GeminiEndToEndTests
{
    private const string Model = "/v1beta/models/" + OpenAICompatProxy.ClientModel;
    private const string WeatherTool = """{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}},"required":["city"]}}]}""";
    private const string Hi = """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""";

    [Fact]
    public async Task Generate_content_has_thought_and_text_parts_finish_reason_and_usage_metadata()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hallo!").WithReasoning("German greeting.").WithUsage(new FakeUsage(20, 9, Cached: 5, Reasoning: 3)));

        var (status, body, _) = await proxy.PostAsync(Model + ":generateContent",
            """{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Say hi in German"}]}],"generationConfig":{"maxOutputTokens":64}}""");

        Assert.Equal(200, status);
        var candidate = ClientWire.Object(body)["candidates"]![0]!;
        var parts = candidate["content"]!["parts"]!.AsArray();
        Assert.Equal("model", (string?)candidate["content"]!["role"]);
        Assert.Equal("German greeting.", (string?)parts[0]!["text"]);
        Assert.True((bool)parts[0]!["thought"]!);
        Assert.Equal("Hallo!", (string?)parts[1]!["text"]);
        Assert.Null(parts[1]!["thought"]);
        Assert.Equal("STOP", (string?)candidate["finishReason"]);
        var usage = ClientWire.Object(body)["usageMetadata"]!;
        Assert.Equal(20, (int)usage["promptTokenCount"]!);
        Assert.Equal(29, (int)usage["totalTokenCount"]!);
        Assert.Equal(3, (int)usage["thoughtsTokenCount"]!);
        Assert.Equal(6, (int)usage["candidatesTokenCount"]!); // Gemini counts thoughts apart from candidates

        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal("Bearer " + OpenAICompatProxy.UpstreamKey, upstream.Header("authorization"));
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)upstream.Json!["model"]);
        Assert.Equal(64, (int)upstream.Json["max_tokens"]!);
        var messages = upstream.Json["messages"]!.AsArray();
        Assert.Equal("Be brief.", (string?)messages[0]!["content"]);
        Assert.Equal("Say hi in German", (string?)messages[1]!["content"]);
    }

    [Fact]
    public async Task Parallel_tool_calls_become_function_call_parts_with_args_objects()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_a", "get_weather", """{"city":"Rome"}"""), ("call_b", "get_weather", """{"city":"Milan"}""")));

        var (status, body, _) = await proxy.PostAsync(Model + ":generateContent",
            $$"""{"tools":[{{WeatherTool}}],"contents":[{"role":"user","parts":[{"text":"Rome and Milan?"}]}]}""");

        Assert.Equal(200, status);
        var candidate = ClientWire.Object(body)["candidates"]![0]!;
        var calls = candidate["content"]!["parts"]!.AsArray().Select(p => p!["functionCall"]!).ToList();
        Assert.Equal(["get_weather", "get_weather"], calls.Select(c => (string?)c["name"]));
        JsonAssert.Equal("""{"city":"Rome"}""", calls[0]["args"]);
        JsonAssert.Equal("""{"city":"Milan"}""", calls[1]["args"]);
        Assert.Equal("STOP", (string?)candidate["finishReason"]); // Gemini ends a function-calling turn with STOP
        var tool = proxy.Upstream.ChatRequests[0].Json!["tools"]![0]!["function"]!;
        Assert.Equal("get_weather", (string?)tool["name"]);
        Assert.Equal("object", ((string?)tool["parameters"]!["type"])?.ToLowerInvariant());
    }

    [Fact]
    public async Task Length_finish_is_max_tokens()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Once upon").WithFinish("length"));

        var (_, body, _) = await proxy.PostAsync(Model + ":generateContent", Hi);

        Assert.Equal("MAX_TOKENS", (string?)ClientWire.Object(body)["candidates"]![0]!["finishReason"]);
    }

    [Fact]
    public async Task Sse_stream_sends_data_only_chunks_ending_with_finish_reason_and_usage()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hello", " world").WithUsage(new FakeUsage(7, 2)));

        var (status, body, response) = await proxy.PostAsync(Model + ":streamGenerateContent?alt=sse", Hi);

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ClientWire.Sse(body);
        Assert.All(events, e => Assert.Null(e.Name));
        Assert.Equal("Hello world", string.Concat(events.SelectMany(e => e.Data!["candidates"]![0]!["content"]!["parts"]!.AsArray()).Select(p => (string?)p!["text"])));
        Assert.All(events[..^1], e => Assert.Null(e.Data!["candidates"]![0]!["finishReason"]));
        Assert.Equal("STOP", (string?)events[^1].Data!["candidates"]![0]!["finishReason"]);
        Assert.Equal(9, (int)events[^1].Data!["usageMetadata"]!["totalTokenCount"]!);
        Assert.True((bool)proxy.Upstream.ChatRequests[0].Json!["stream"]!);
    }

    [Fact]
    public async Task Stream_without_alt_sse_is_one_json_array_of_chunks()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hello", " world").WithUsage(new FakeUsage(7, 2)));

        var (status, body, response) = await proxy.PostAsync(Model + ":streamGenerateContent", Hi);

        Assert.Equal(200, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var chunks = JsonNode.Parse(body)!.AsArray();
        Assert.True(chunks.Count >= 2);
        Assert.Equal("Hello world", string.Concat(chunks.SelectMany(c => c!["candidates"]![0]!["content"]!["parts"]!.AsArray()).Select(p => (string?)p!["text"])));
        Assert.Equal("STOP", (string?)chunks[^1]!["candidates"]![0]!["finishReason"]);
        Assert.Equal(7, (int)chunks[^1]!["usageMetadata"]!["promptTokenCount"]!);
    }

    [Fact]
    public async Task Tool_call_stream_sends_whole_function_calls()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_a", "get_weather", """{"city":"Rome"}"""), ("call_b", "get_weather", """{"city":"Milan"}""")));

        var (_, body, _) = await proxy.PostAsync(Model + ":streamGenerateContent?alt=sse",
            $$"""{"tools":[{{WeatherTool}}],"contents":[{"role":"user","parts":[{"text":"Rome and Milan?"}]}]}""");

        var calls = ClientWire.Sse(body).SelectMany(e => e.Data!["candidates"]![0]!["content"]!["parts"]!.AsArray())
            .Select(p => p!["functionCall"]).OfType<JsonObject>().ToList();
        Assert.Equal(2, calls.Count);
        JsonAssert.Equal("""{"city":"Rome"}""", calls[0]["args"]);
        JsonAssert.Equal("""{"city":"Milan"}""", calls[1]["args"]);
    }

    [Fact]
    public async Task Two_turn_tool_loop_pairs_the_function_response_with_its_call_upstream()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_3", "get_weather", """{"city":"Lagos"}""")), ChatReply.Text("Humid in Lagos."));

        var (_, first, _) = await proxy.PostAsync(Model + ":generateContent",
            $$"""{"tools":[{{WeatherTool}}],"contents":[{"role":"user","parts":[{"text":"Weather in Lagos?"}]}]}""");
        var call = ClientWire.Object(first)["candidates"]![0]!["content"]!["parts"]![0]!["functionCall"]!;
        Assert.Equal("get_weather", (string?)call["name"]);

        // Gemini clients echo the call without an id and answer by name.
        var (status, second, _) = await proxy.PostAsync(Model + ":generateContent", $$$$"""
            {"tools":[{{{{WeatherTool}}}}],"contents":[
              {"role":"user","parts":[{"text":"Weather in Lagos?"}]},
              {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Lagos"}}}]},
              {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp_c":31}}}]}]}
            """);

        Assert.Equal(200, status);
        Assert.Equal("Humid in Lagos.", (string?)ClientWire.Object(second)["candidates"]![0]!["content"]!["parts"]![0]!["text"]);
        var messages = proxy.Upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        var assistantCall = messages.Single(m => (string?)m!["role"] == "assistant")!["tool_calls"]![0]!;
        Assert.Equal("get_weather", (string?)assistantCall["function"]!["name"]);
        JsonAssert.Equal("""{"city":"Lagos"}""", JsonNode.Parse((string)assistantCall["function"]!["arguments"]!));
        var tool = messages.Single(m => (string?)m!["role"] == "tool")!;
        Assert.False(string.IsNullOrEmpty((string?)assistantCall["id"]));
        Assert.Equal((string?)assistantCall["id"], (string?)tool["tool_call_id"]);
        Assert.Contains("31", tool["content"]!.ToJsonString());
    }

    [Fact]
    public async Task Count_tokens_answers_total_tokens_without_calling_the_upstream()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();

        var (status, body, _) = await proxy.PostAsync(Model + ":countTokens",
            """{"contents":[{"role":"user","parts":[{"text":"How many tokens is this sentence, roughly speaking?"}]}]}""");

        Assert.Equal(200, status);
        Assert.InRange((int)ClientWire.Object(body)["totalTokens"]!, 1, 100);
        Assert.Empty(proxy.Upstream.Requests);
    }
}
