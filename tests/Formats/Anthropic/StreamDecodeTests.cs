using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class StreamDecodeTests
{
    /// <summary>An upstream transcript with thinking, text and two parallel tool calls, as Anthropic streams it.</summary>
    internal const string ToolTranscript = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01XFD","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":1}}}

        event: ping
        data: {"type": "ping"}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two cities."}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCkYIBxgCKkB+/sig=nature/with+plus=="}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking "}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"both."}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: content_block_start
        data: {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_01B","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Rome\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":3}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

        event: message_stop
        data: {"type":"message_stop"}


        """;

    private static List<StreamEvent> Decode(string transcript) =>
        StreamHarness.Decode(AnthropicCodec.Instance.CreateStreamDecoder(), transcript);

    [Fact]
    public void ToolTranscript_DecodesToCanonicalEventsInOrder()
    {
        var events = Decode(ToolTranscript);

        Assert.Equal(
        [
            "started msg_01XFD claude-sonnet-4-5-20250929",
            "usage in=80 cached=20 created=10 out=1",
            "reasoning Two cities.",
            $"signature Anthropic {RequestDecodeTests.Signature}",
            "text Checking ",
            "text both.",
            "call#0 toolu_01A get_weather",
            "args#0 {\"city\": \"Pa",
            "args#0 ris\"}",
            "call#1 toolu_01B get_weather",
            "args#1 {\"city\": \"Rome\"}",
            "finished ToolCalls tool_use",
            "usage in=80 cached=20 created=10 out=89",
            "completed",
        ], events.Select(Describe));
    }

    [Fact]
    public void ServerToolBlocks_BecomeNativeDeltasWithTheirStreamedInput()
    {
        var events = Decode("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_2","model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"paris"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":" weather\"}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://w","title":"W","encrypted_content":"e"}]}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: content_block_start
            data: {"type":"content_block_start","index":2,"content_block":{"type":"redacted_thinking","data":"REDACTED=="}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":2}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":7,"output_tokens":40}}

            """);

        var natives = events.OfType<NativeDelta>().Select(n => n.Part).ToList();
        Assert.All(natives, n => Assert.Equal(Dialect.Anthropic, n.Dialect));
        JsonAssert.Equal("""{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"paris weather"}}""", natives[0].Json);
        JsonAssert.Equal("""{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://w","title":"W","encrypted_content":"e"}]}""", natives[1].Json);
        Assert.Equal("REDACTED==", Assert.Single(events.OfType<RedactedReasoning>()).Data);
        Assert.Equal("usage in=7 cached=0 created=0 out=40", Describe(events.OfType<UsageReported>().Last()));
        Assert.Equal(["finished Stop end_turn", "usage in=7 cached=0 created=0 out=40", "completed"], events.TakeLast(3).Select(Describe));
    }

    [Fact]
    public void ErrorEvent_ThrowsTransientUpstreamException()
    {
        var decoder = AnthropicCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();

        var error = Assert.Throws<UpstreamException>(() => decoder.Decode(
            new("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""), output));

        Assert.Equal((FailureKind.Transient, 529, "Overloaded"), (error.Kind, error.StatusCode, error.Message));
        var apiError = Assert.Throws<UpstreamException>(() => decoder.Decode(
            new("error", """{"type":"error","error":{"type":"api_error","message":"Internal"}}"""), output));
        Assert.Equal((FailureKind.Transient, 500), (apiError.Kind, apiError.StatusCode));
    }

    [Fact]
    public void GroundingOnMessageDelta_ComesBeforeTheFinish()
    {
        var events = Decode("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_4","model":"gemini-2.5-pro","usage":{"input_tokens":5,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3},"grounding_metadata":{"webSearchQueries":["q"]}}

            """);

        Assert.Equal(["GroundingReported", "finished Stop end_turn", "usage in=5 cached=0 created=0 out=3", "completed"], events.Skip(2).Select(Describe));
        JsonAssert.Equal("""{"webSearchQueries":["q"]}""", events.OfType<GroundingReported>().Single().Metadata);
    }

    [Fact]
    public void TruncatedStream_CompleteFinishesTheChoice()
    {
        var events = Decode("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_3","model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"f","input":{}}}

            data: not json

            """);

        Assert.Equal(["call#0 toolu_9 f", "finished ToolCalls", "completed"], events.Skip(2).Select(Describe));
    }

    [Fact]
    public void AnthropicStream_ThroughDecoderAndEncoder_IsReproduced()
    {
        var decoded = Decode(ToolTranscript);
        var encoded = StreamHarness.ParseSse(StreamHarness.Encode(AnthropicCodec.Instance.CreateStreamEncoder(new ChatRequest()), decoded));
        var original = StreamHarness.ParseSse(ToolTranscript).Where(e => !e.Data.Contains("\"partial_json\":\"\"")).ToList();

        Assert.Equal(original.Select(e => e.Event), encoded.Select(e => e.Event));
        for (var i = 0; i < original.Count; i++)
        {
            var expected = JsonNode.Parse(original[i].Data)!;
            if (original[i].Event == "message_delta")
                expected["usage"] = JsonNode.Parse("""{"input_tokens":50,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":89}""");
            JsonAssert.Equal(expected, JsonNode.Parse(encoded[i].Data));
        }
    }

    /// <summary>
    /// The SSE reader reuses its buffer once <c>Decode</c> returns: every event here is decoded from one buffer that is
    /// overwritten right after, so anything kept that pointed into it (or into the disposed document) would read junk
    /// or throw when the events are read at the end. Covers the JSON a decoder keeps across events (a native block
    /// and its streamed input) and copies out (grounding).
    /// </summary>
    [Fact]
    public void Events_outlive_the_overwritten_event_buffer()
    {
        const string transcript = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_5","model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"paris\"}"}}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":[1,2]}}}

            event: content_block_start
            data: {"type":"content_block_start","index":2,"content_block":{"type":"text","text":"Hé"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"llo"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3},"grounding_metadata":{"webSearchQueries":["q"]}}

            """;
        var decoder = AnthropicCodec.Instance.CreateStreamDecoder();
        var events = StreamHarness.DecodeFromReusedBuffer(decoder, transcript);

        Assert.Equal(
        [
            "started msg_5 claude",
            "usage in=5 cached=0 created=0 out=1",
            "call#0 toolu_1 f",
            "args#0 {\"a\":[1,2]}",
            "text Hé",
            "text llo",
            "native {\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{\"query\":\"paris\"}}",
            "GroundingReported",
            "finished Stop end_turn",
            "usage in=5 cached=0 created=0 out=3",
            "completed",
        ], events.Select(Describe));
        JsonAssert.Equal("""{"webSearchQueries":["q"]}""", events.OfType<GroundingReported>().Single().Metadata);
    }

    /// <summary>The error keeps the event's text as its body, as it did when events were decoded from strings.</summary>
    [Fact]
    public void ErrorEvent_KeepsTheEventTextAsItsBody()
    {
        const string data = """{"type": "error", "error": {"type": "rate_limit_error", "message": "Trop de requêtes"}}""";
        var decoder = AnthropicCodec.Instance.CreateStreamDecoder();

        var error = Assert.Throws<UpstreamException>(() => decoder.Decode(new("error", System.Text.Encoding.UTF8.GetBytes(data)), []));

        Assert.Equal((FailureKind.Quota, 429, "Trop de requêtes", data), (error.Kind, error.StatusCode, error.Message, error.Body));
    }

    /// <summary>Bytes that are not UTF-8 read as U+FFFD, as they did when the event's data was decoded to a string.</summary>
    [Fact]
    public void InvalidUtf8_ReadsAsReplacementCharacters()
    {
        byte[] data = [.. """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"""u8, 0xFF, .. """b"}}"""u8];
        var decoder = AnthropicCodec.Instance.CreateStreamDecoder();
        var events = new List<StreamEvent>();
        decoder.Decode(new("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""), events);

        decoder.Decode(new("content_block_delta", data), events);

        Assert.Equal("a\uFFFDb", Assert.IsType<TextDelta>(Assert.Single(events)).Text);
    }

    /// <summary>The <c>event:</c> name stands in for a missing <c>type</c>; an unknown <c>type</c> is not overridden by it.</summary>
    [Fact]
    public void EventName_IsUsedOnlyWhenTheDataHasNoType()
    {
        var decoder = AnthropicCodec.Instance.CreateStreamDecoder();
        var events = new List<StreamEvent>();

        decoder.Decode(new("message_start", """{"message":{"id":"msg_6","model":"m"}}"""), events);
        decoder.Decode(new("message_start", """{"type":"message_begin","message":{"id":"msg_7","model":"m"}}"""), events);
        decoder.Decode(new("message_stop", """[1]"""), events);

        Assert.Equal(["started msg_6 m"], events.Select(Describe));
        Assert.False(((AnthropicStreamDecoder)decoder).EndedCleanly);
    }

    internal static string Describe(StreamEvent e) => e switch
    {
        ResponseStarted s => $"started {s.Id} {s.Model}",
        UsageReported u => $"usage in={u.Usage.InputTokens} cached={u.Usage.CachedInputTokens} created={u.Usage.CacheCreationInputTokens} out={u.Usage.OutputTokens}",
        ReasoningDelta r => $"reasoning {r.Text}",
        ReasoningSignature s => $"signature {s.Dialect} {s.Signature}",
        TextDelta t => $"text {t.Text}",
        ToolCallStarted c => $"call#{c.Index} {c.Id} {c.Name}",
        ToolCallArgumentsDelta a => $"args#{a.Index} {a.Fragment}",
        ChoiceFinished f => $"finished {f.Reason}{(f.NativeReason is null ? "" : " " + f.NativeReason)}",
        RedactedReasoning r => $"redacted {r.Data}",
        NativeDelta n => $"native {JsonText.Serialize(n.Part.Json)}",
        ResponseCompleted => "completed",
        _ => e.GetType().Name,
    };
}
