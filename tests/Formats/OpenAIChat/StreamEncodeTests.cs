using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class StreamEncodeTests
{
    private const string Header = "\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"gpt-4.1\"";

    private static string Encode(ChatRequest request, params StreamEvent[] events) =>
        StreamHarness.Encode(OpenAIChatCodec.Instance.CreateStreamEncoder(request), events);

    /// <summary>The data of every SSE event, parsed (the [DONE] terminator excluded).</summary>
    private static List<JsonObject> Chunks(string sse) =>
        [.. StreamHarness.ParseSse(sse).Where(e => !e.IsDone).Select(e => JsonNode.Parse(e.Data)!.AsObject())];

    [Fact]
    public void TextAndReasoningStreamWithUsageIsExactlyOpenAIShaped()
    {
        var sse = Encode(new ChatRequest { Model = "gpt-4.1", Stream = true, IncludeUsage = true },
            new ResponseStarted("chatcmpl-1", "gpt-4.1", 1735689600),
            new ReasoningDelta(0, "Thinking"),
            new TextDelta(0, "Hello"),
            new TextDelta(0, ""),
            new TextDelta(0, " world"),
            new ChoiceFinished(0, FinishReason.Stop, "STOP"),
            new UsageReported(new Usage { InputTokens = 10, OutputTokens = 5, CachedInputTokens = 4, ReasoningTokens = 2 }),
            ResponseCompleted.Instance);

        Assert.Equal(
            $"data: {{{Header},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"finish_reason\":null}}]}}\n\n" +
            $"data: {{{Header},\"choices\":[{{\"index\":0,\"delta\":{{\"reasoning_content\":\"Thinking\"}},\"finish_reason\":null}}]}}\n\n" +
            $"data: {{{Header},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hello\"}},\"finish_reason\":null}}]}}\n\n" +
            $"data: {{{Header},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" world\"}},\"finish_reason\":null}}]}}\n\n" +
            $"data: {{{Header},\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n" +
            $"data: {{{Header},\"choices\":[],\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15,\"prompt_tokens_details\":{{\"cached_tokens\":4}},\"completion_tokens_details\":{{\"reasoning_tokens\":2}}}}}}\n\n" +
            "data: [DONE]\n\n",
            sse);
    }

    [Fact]
    public void UsageIsNotSentUnlessTheClientAskedForIt()
    {
        var sse = Encode(new ChatRequest { Model = "m", Stream = true },
            new ResponseStarted("id", "m", 1), new TextDelta(0, "x"), new ChoiceFinished(0, FinishReason.Stop),
            new UsageReported(new Usage { InputTokens = 1, OutputTokens = 1 }), ResponseCompleted.Instance);

        Assert.DoesNotContain("usage", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
    }

    [Fact]
    public void ParallelToolCallsStreamIncrementallyWithStableIndexes()
    {
        var chunks = Chunks(Encode(new ChatRequest { Model = "m" },
            new ResponseStarted("chatcmpl-1", "gpt-4.1", 1735689600),
            new TextDelta(0, "Checking."),
            new ToolCallStarted(0, 0, "call_a", "get_weather"),
            new ToolCallArgumentsDelta(0, 0, "{\"city\":"),
            new ToolCallStarted(0, 1, "call_b", "get_time"),
            new ToolCallArgumentsDelta(0, 1, "{}"),
            new ToolCallArgumentsDelta(0, 0, "\"Paris\"}"),
            new ChoiceFinished(0, FinishReason.Stop),
            ResponseCompleted.Instance));

        var deltas = chunks.Select(c => c["choices"]![0]!["delta"]).ToList();
        Assert.Equal(8, chunks.Count);
        JsonAssert.Equal("""{"content":"Checking."}""", deltas[1]);
        JsonAssert.Equal("""{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}""", deltas[2]);
        JsonAssert.Equal("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}""", deltas[3]);
        JsonAssert.Equal("""{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}""", deltas[4]);
        JsonAssert.Equal("""{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}""", deltas[5]);
        JsonAssert.Equal("""{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}""", deltas[6]);
        // The upstream said stop (Gemini does so when calling functions); chat clients need tool_calls.
        JsonAssert.Equal("""{"index":0,"delta":{},"finish_reason":"tool_calls"}""", chunks[7]["choices"]![0]);
    }

    [Fact]
    public void FinishChunkCarriesGroundingAndEveryChunkSharesTheHeader()
    {
        var grounding = JsonNode.Parse("""{"webSearchQueries":["q"],"groundingChunks":[{"web":{"uri":"https://a.example","title":"a"}}]}""")!;
        var chunks = Chunks(Encode(new ChatRequest { Model = "gemini-2.5-pro" },
            new ResponseStarted("resp-7", "gemini-2.5-pro", 1735689600),
            new TextDelta(0, "Sunny."),
            new GroundingReported(0, grounding),
            new ChoiceFinished(0, FinishReason.Stop, "STOP"),
            ResponseCompleted.Instance));

        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(("resp-7", "chat.completion.chunk", 1735689600L, "gemini-2.5-pro"),
            (c["id"]!.GetValue<string>(), c["object"]!.GetValue<string>(), c["created"]!.GetValue<long>(), c["model"]!.GetValue<string>())));
        JsonAssert.Equal($$"""{"index":0,"delta":{},"finish_reason":"stop","grounding_metadata":{{grounding.ToJsonString()}}}""", chunks[2]["choices"]![0]);
    }

    [Fact]
    public void MissingStartAndFinishAreSynthesised()
    {
        var sse = Encode(new ChatRequest { Model = "asked" }, new TextDelta(0, "hi"), ResponseCompleted.Instance);
        var chunks = Chunks(sse);

        Assert.Equal(3, chunks.Count);
        var id = chunks[0]["id"]!.GetValue<string>();
        Assert.StartsWith("chatcmpl-", id);
        Assert.All(chunks, c => Assert.Equal((id, "asked"), (c["id"]!.GetValue<string>(), c["model"]!.GetValue<string>())));
        JsonAssert.Equal("""{"role":"assistant","content":""}""", chunks[0]["choices"]![0]!["delta"]);
        JsonAssert.Equal("""{"index":0,"delta":{},"finish_reason":"stop"}""", chunks[2]["choices"]![0]);
        Assert.EndsWith("data: [DONE]\n\n", sse);
    }

    [Fact]
    public void SeveralChoicesEachGetRoleAndFinish()
    {
        var chunks = Chunks(Encode(new ChatRequest { Model = "m" },
            new ResponseStarted("id", "m", 1),
            new TextDelta(0, "A"), new TextDelta(1, "B"),
            new ChoiceFinished(1, FinishReason.Length), new ChoiceFinished(0, FinishReason.Stop),
            ResponseCompleted.Instance));

        var choices = chunks.Select(c => JsonText(c["choices"]![0]!)).ToList();
        Assert.Equal(
        [
            """{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}""",
            """{"index":0,"delta":{"content":"A"},"finish_reason":null}""",
            """{"index":1,"delta":{"role":"assistant","content":""},"finish_reason":null}""",
            """{"index":1,"delta":{"content":"B"},"finish_reason":null}""",
            """{"index":1,"delta":{},"finish_reason":"length"}""",
            """{"index":0,"delta":{},"finish_reason":"stop"}""",
        ], choices);
    }

    [Fact]
    public void SignaturesOfThisDialectBecomeThinkingBlocksOthersAreDropped()
    {
        var chunks = Chunks(Encode(new ChatRequest(),
            new ResponseStarted("id", "m", 1),
            new ReasoningDelta(0, "t"),
            new ReasoningSignature(0, "anthropic-only", Dialect.Anthropic),
            new ReasoningSignature(0, "sig+/=\u00e9", Dialect.OpenAIChat),
            new RedactedReasoning(0, "opaque"),
            ResponseCompleted.Instance));

        Assert.Equal(4, chunks.Count);
        JsonAssert.Equal("""{"thinking_blocks":[{"type":"thinking","thinking":"","signature":"sig+/=\u00e9"}]}""", chunks[2]["choices"]![0]!["delta"]);
    }

    [Fact]
    public void ImagesStreamAsDataUrls()
    {
        var chunks = Chunks(Encode(new ChatRequest(), new ResponseStarted("id", "m", 1), new ImageDelta(0, "image/png", "iVBOR"), ResponseCompleted.Instance));
        JsonAssert.Equal("""{"images":[{"index":0,"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]}""", chunks[1]["choices"]![0]!["delta"]);
    }

    [Fact]
    public void ErrorEndsTheStream()
    {
        var encoder = OpenAIChatCodec.Instance.CreateStreamEncoder(new ChatRequest());
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new ResponseStarted("id", "m", 1), buffer);
        encoder.EncodeError(429, "Quota exhausted", buffer);
        encoder.Encode(new TextDelta(0, "late"), buffer);
        encoder.Encode(ResponseCompleted.Instance, buffer);

        var events = StreamHarness.ParseSse(Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(2, events.Count);
        JsonAssert.Equal("""{"error":{"message":"Quota exhausted","type":"rate_limit_error","code":"rate_limit_exceeded"}}""", JsonNode.Parse(events[1].Data));
        Assert.Equal("text/event-stream", encoder.ContentType);
    }

    private static string JsonText(JsonNode node) => PluginProxy.Formats.Json.JsonText.Serialize(node);
}
