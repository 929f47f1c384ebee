using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Sse;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class StreamEncodeTests
{
    private static readonly ChatRequest Request = new() { Model = "client-model", Stream = true };

    private static string Sse(params (string Event, string Data)[] events) =>
        string.Concat(events.Select(e => $"event: {e.Event}\ndata: {e.Data}\n\n"));

    private static List<SseEvent> Encode(params StreamEvent[] events) =>
        StreamHarness.ParseSse(StreamHarness.Encode(AnthropicCodec.Instance.CreateStreamEncoder(Request), events));

    [Fact]
    public void ThinkingTextAndParallelToolCalls_ExactSse()
    {
        var sse = StreamHarness.Encode(AnthropicCodec.Instance.CreateStreamEncoder(Request),
        [
            new ResponseStarted("msg_1", "claude-sonnet-4-5", 1700000000),
            new UsageReported(new Usage { InputTokens = 1000, CachedInputTokens = 600, CacheCreationInputTokens = 100, OutputTokens = 1 }),
            new ReasoningDelta(0, "Let me "),
            new ReasoningDelta(0, "think."),
            new ReasoningSignature(0, RequestDecodeTests.Signature, Dialect.Anthropic),
            new TextDelta(0, "Checking "),
            new TextDelta(0, "both."),
            new ToolCallStarted(0, 0, "toolu_01A", "get_weather"),
            new ToolCallArgumentsDelta(0, 0, """{"city":"""),
            new ToolCallArgumentsDelta(0, 0, "\"Paris\"}"),
            new ToolCallStarted(0, 1, "toolu_01B", "get_weather"),
            new ToolCallArgumentsDelta(0, 1, """{"city":"Rome"}"""),
            new ChoiceFinished(0, FinishReason.ToolCalls, "tool_use"),
            new UsageReported(new Usage { InputTokens = 1000, CachedInputTokens = 600, CacheCreationInputTokens = 100, OutputTokens = 85 }),
            ResponseCompleted.Instance,
        ]);

        var expected = Sse(
            ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":300,"cache_creation_input_tokens":100,"cache_read_input_tokens":600,"output_tokens":1}}}"""),
            ("ping", """{"type":"ping"}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCkYIBxgCKkB+/sig=nature/with+plus=="}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking "}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"both."}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":1}"""),
            ("content_block_start", """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":2}"""),
            ("content_block_start", """{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_01B","name":"get_weather","input":{}}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Rome\"}"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":3}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":300,"cache_creation_input_tokens":100,"cache_read_input_tokens":600,"output_tokens":85}}"""),
            ("message_stop", """{"type":"message_stop"}"""));
        Assert.Equal(expected, sse);
    }

    [Fact]
    public void EachEvent_IsWrittenWhenItArrives()
    {
        var encoder = AnthropicCodec.Instance.CreateStreamEncoder(Request);
        var buffer = new ArrayBufferWriter<byte>();
        string Written() => Encoding.UTF8.GetString(buffer.WrittenSpan);

        encoder.Encode(new ResponseStarted("msg_2", "m", 0), buffer);
        Assert.Equal("", Written()); // message_start waits one event for input usage
        encoder.Encode(new TextDelta(0, "Hel"), buffer);
        var afterFirst = Written();
        Assert.Contains("event: message_start", afterFirst);
        Assert.EndsWith("\"text_delta\",\"text\":\"Hel\"}}\n\n", afterFirst);
        encoder.Encode(new TextDelta(0, "lo"), buffer);
        Assert.EndsWith("\"text_delta\",\"text\":\"lo\"}}\n\n", Written());
        Assert.Equal("text/event-stream", encoder.ContentType);
    }

    [Fact]
    public void WithoutResponseStarted_SynthesizesIdAndUsesRequestModel_DefaultsToEndTurn()
    {
        var events = Encode(new TextDelta(0, "hi"), ResponseCompleted.Instance);

        Assert.Equal(["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], events.Select(e => e.Event));
        var message = JsonNode.Parse(events[0].Data)!["message"]!;
        Assert.StartsWith("msg_", message["id"]!.GetValue<string>());
        Assert.Equal("client-model", message["model"]!.GetValue<string>());
        Assert.Equal("end_turn", JsonNode.Parse(events[5].Data)!["delta"]!["stop_reason"]!.GetValue<string>());
    }

    [Fact]
    public void ForeignSignatureDropped_GroundingOnMessageDelta_UsageAfterFinishKept()
    {
        var events = Encode(
            new ResponseStarted("gem-1", "gemini-2.5-pro", 0),
            new ReasoningDelta(0, "thinking"),
            new ReasoningSignature(0, "gemini-sig", Dialect.Gemini),
            new TextDelta(0, "Paris is sunny."),
            new TextDelta(1, "other candidate"),
            new GroundingReported(0, JsonNode.Parse("""{"webSearchQueries":["paris"]}""")!),
            new ChoiceFinished(0, FinishReason.Stop, "STOP"),
            new UsageReported(new Usage { InputTokens = 10, OutputTokens = 5 }),
            ResponseCompleted.Instance);

        Assert.DoesNotContain(events, e => e.Data.Contains("signature_delta") || e.Data.Contains("gemini-sig") || e.Data.Contains("other candidate"));
        JsonAssert.Equal("""
            {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
             "usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5},
             "grounding_metadata":{"webSearchQueries":["paris"]}}
            """, JsonNode.Parse(events[^2].Data));
        Assert.Equal(2, events.Count(e => e.Event == "content_block_start"));
    }

    [Fact]
    public void SignatureOnlyThinking_RedactedNativeAndImageBlocks()
    {
        var events = Encode(
            new ResponseStarted("msg_3", "claude", 0),
            new ReasoningSignature(0, "sig-only", Dialect.Anthropic),
            new RedactedReasoning(0, "REDACTED"),
            new NativeDelta(0, new NativePart(Dialect.Anthropic, JsonNode.Parse("""{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}}""")!)),
            new NativeDelta(0, new NativePart(Dialect.Gemini, JsonNode.Parse("""{"executableCode":{}}""")!)),
            new ImageDelta(0, "image/png", "AAA="),
            new TextDelta(0, "ok"),
            ResponseCompleted.Instance);

        var blocks = events.Where(e => e.Event == "content_block_start").Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal([0, 1, 2, 3, 4], blocks.Select(b => b["index"]!.GetValue<int>()));
        JsonAssert.Equal("""{"type":"thinking","thinking":"","signature":""}""", blocks[0]["content_block"]);
        JsonAssert.Equal("""{"type":"redacted_thinking","data":"REDACTED"}""", blocks[1]["content_block"]);
        JsonAssert.Equal("""{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}}""", blocks[2]["content_block"]);
        JsonAssert.Equal("""{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA="}}""", blocks[3]["content_block"]);
        Assert.Contains(events, e => e.Data.Contains("\"signature_delta\",\"signature\":\"sig-only\""));
        Assert.Equal(events.Count(e => e.Event == "content_block_start"), events.Count(e => e.Event == "content_block_stop"));
    }

    [Fact]
    public void MidStreamError_WritesErrorEventAndEndsTheStream()
    {
        var encoder = AnthropicCodec.Instance.CreateStreamEncoder(Request);
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new ResponseStarted("msg_4", "claude", 0), buffer);
        encoder.Encode(new TextDelta(0, "partial"), buffer);

        encoder.EncodeError(529, "Overloaded", buffer);
        encoder.Encode(ResponseCompleted.Instance, buffer);

        var events = StreamHarness.ParseSse(Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal("error", events[^1].Event);
        JsonAssert.Equal("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", JsonNode.Parse(events[^1].Data));
        Assert.DoesNotContain(events, e => e.Event == "message_stop");
    }
}
