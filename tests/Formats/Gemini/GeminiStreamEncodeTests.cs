using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Gemini;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

public sealed class GeminiStreamEncodeTests
{
    private static IStreamEncoder Encoder(ChatRequest? request = null, StreamFraming framing = StreamFraming.Sse) =>
        GeminiCodec.Instance.CreateStreamEncoder(request ?? new ChatRequest { Model = "gemini-2.5-pro" }, framing);

    private static string Chunk(string parts, string model = "claude-sonnet-4-5", string id = "msg_1") =>
        $$"""data: {"candidates":[{"content":{"role":"model","parts":[{{parts}}]},"index":0}],"modelVersion":"{{model}}","responseId":"{{id}}"}""" + "\n\n";

    [Fact]
    public void Encodes_a_canonical_stream_from_another_dialect()
    {
        var text = StreamHarness.Encode(Encoder(),
        [
            new ResponseStarted("msg_1", "claude-sonnet-4-5", 1735689600),
            new ReasoningDelta(0, "Let me look."),
            new ReasoningSignature(0, "anthropic-signature", Dialect.Anthropic),
            new TextDelta(0, "Checking "),
            new TextDelta(0, "now."),
            new ToolCallStarted(0, 0, "toolu_1", "lookup"),
            new ToolCallArgumentsDelta(0, 0, "{\"q\":"),
            new ToolCallArgumentsDelta(0, 0, "\"paris\"}"),
            new ToolCallStarted(0, 1, "toolu_2", "clock"),
            new ToolCallArgumentsDelta(0, 1, ""),
            new ChoiceFinished(0, FinishReason.ToolCalls, "tool_use"),
            new UsageReported(new Usage { InputTokens = 50, OutputTokens = 20, ReasoningTokens = 5, CachedInputTokens = 10 }),
            ResponseCompleted.Instance,
        ]);

        Assert.Equal(
            Chunk("""{"text":"Let me look.","thought":true}""")
            + Chunk("""{"text":"Checking "}""")
            + Chunk("""{"text":"now."}""")
            + Chunk("""{"functionCall":{"name":"lookup","args":{"q":"paris"},"id":"toolu_1"}}""")
            + Chunk("""{"functionCall":{"name":"clock","args":{},"id":"toolu_2"}}""")
            + """data: {"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":15,"totalTokenCount":70,"cachedContentTokenCount":10,"thoughtsTokenCount":5},"modelVersion":"claude-sonnet-4-5","responseId":"msg_1"}"""
            + "\n\n",
            text);
    }

    [Fact]
    public void Writes_each_piece_as_soon_as_it_is_known()
    {
        var encoder = Encoder();
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new ResponseStarted("r", "m", 0), buffer);
        Assert.Equal(0, buffer.WrittenCount);
        encoder.Encode(new TextDelta(0, "Hi"), buffer);
        Assert.Equal(Chunk("""{"text":"Hi"}""", "m", "r"), Encoding.UTF8.GetString(buffer.WrittenSpan));

        // A call is only complete once something else arrives.
        encoder.Encode(new ToolCallStarted(0, 0, "c1", "f"), buffer);
        encoder.Encode(new ToolCallArgumentsDelta(0, 0, "{}"), buffer);
        var before = buffer.WrittenCount;
        encoder.Encode(new TextDelta(0, "more"), buffer);
        Assert.Equal(
            Chunk("""{"functionCall":{"name":"f","args":{},"id":"c1"}}""", "m", "r") + Chunk("""{"text":"more"}""", "m", "r"),
            Encoding.UTF8.GetString(buffer.WrittenSpan[before..]));
    }

    [Fact]
    public void Gemini_signatures_go_on_their_call_or_on_their_own_thought_part()
    {
        var text = StreamHarness.Encode(Encoder(),
        [
            new ResponseStarted("r", "gemini-3-pro-preview", 0),
            new ReasoningDelta(0, "think"),
            new ReasoningSignature(0, "thought-sig", Dialect.Gemini),
            new TextDelta(0, "ok"),
            new ToolCallStarted(0, 0, "c1", "f", "call-sig", Dialect.Gemini),
            new ToolCallArgumentsDelta(0, 0, "{\"x\":1}"),
            new ToolCallStarted(0, 1, "c2", "g", "foreign-sig", Dialect.Anthropic),
            new ChoiceFinished(0, FinishReason.ToolCalls, "STOP"),
            ResponseCompleted.Instance,
        ]);
        var parts = StreamHarness.ParseSse(text)
            .Select(e => JsonNode.Parse(e.Data)!["candidates"]![0]!["content"]!["parts"]!)
            .Where(p => p.AsArray().Count > 0)
            .Select(p => p[0]!.ToJsonString());
        Assert.Equal(
        [
            """{"text":"think","thought":true}""",
            """{"text":"","thought":true,"thoughtSignature":"thought-sig"}""",
            """{"text":"ok"}""",
            """{"functionCall":{"name":"f","args":{"x":1},"id":"c1"},"thoughtSignature":"call-sig"}""",
            """{"functionCall":{"name":"g","args":{},"id":"c2"}}""",
        ], parts);
    }

    [Fact]
    public void Final_chunk_carries_grounding_native_finish_and_every_candidate()
    {
        var text = StreamHarness.Encode(Encoder(),
        [
            new ResponseStarted("r", "m", 0),
            new TextDelta(0, "a"),
            new TextDelta(1, "b"),
            new GroundingReported(0, JsonNode.Parse("""{"webSearchQueries":["old"]}""")!),
            new GroundingReported(0, JsonNode.Parse("""{"webSearchQueries":["q"]}""")!),
            new ChoiceFinished(0, FinishReason.Stop, "STOP"),
            new ChoiceFinished(1, FinishReason.ContentFilter, "RECITATION"),
            ResponseCompleted.Instance,
        ]);
        var last = JsonNode.Parse(StreamHarness.ParseSse(text)[^1].Data);
        JsonAssert.Equal("""
            {"candidates":[
              {"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0,"groundingMetadata":{"webSearchQueries":["q"]}},
              {"content":{"role":"model","parts":[]},"finishReason":"RECITATION","index":1}
            ],"modelVersion":"m","responseId":"r"}
            """, last);
    }

    [Fact]
    public void Synthesizes_ids_and_a_finish_reason_when_the_source_gave_none()
    {
        var text = StreamHarness.Encode(Encoder(new ChatRequest { Model = "requested-model" }), [new TextDelta(0, "hi"), ResponseCompleted.Instance]);
        var chunks = StreamHarness.ParseSse(text).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(2, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("requested-model", c["modelVersion"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(chunks[0]["responseId"]!.GetValue<string>()));
        Assert.Equal(chunks[0]["responseId"]!.GetValue<string>(), chunks[1]["responseId"]!.GetValue<string>());
        Assert.Equal("STOP", chunks[1]["candidates"]![0]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public void Hides_thought_text_the_client_did_not_ask_for()
    {
        var request = new ChatRequest { Model = "m", Reasoning = new ReasoningConfig { BudgetTokens = 1024, IncludeThoughts = false } };
        var text = StreamHarness.Encode(Encoder(request), [new ResponseStarted("r", "m", 0), new ReasoningDelta(0, "secret"), new TextDelta(0, "answer"), ResponseCompleted.Instance]);
        Assert.DoesNotContain("secret", text);
        Assert.StartsWith(Chunk("""{"text":"answer"}""", "m", "r"), text);
    }

    [Fact]
    public void Json_array_framing()
    {
        var encoder = Encoder(framing: StreamFraming.JsonArray);
        Assert.Equal("application/json", encoder.ContentType);
        var text = StreamHarness.Encode(encoder,
        [
            new ResponseStarted("r", "m", 0),
            new TextDelta(0, "Hel"),
            new TextDelta(0, "lo"),
            new ChoiceFinished(0, FinishReason.Length, "max_tokens"),
            ResponseCompleted.Instance,
        ]);
        Assert.Equal(
            """[{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"modelVersion":"m","responseId":"r"}""" + ",\r\n"
            + """{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"index":0}],"modelVersion":"m","responseId":"r"}""" + ",\r\n"
            + """{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"MAX_TOKENS","index":0}],"modelVersion":"m","responseId":"r"}]""",
            text);
        Assert.Equal(3, JsonNode.Parse(text)!.AsArray().Count);
    }

    [Fact]
    public void Sse_content_type_and_mid_stream_errors()
    {
        var encoder = Encoder();
        Assert.Equal("text/event-stream", encoder.ContentType);
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new ResponseStarted("r", "m", 0), buffer);
        encoder.Encode(new TextDelta(0, "x"), buffer);
        var before = buffer.WrittenCount;
        encoder.EncodeError(429, "quota exhausted", buffer);
        encoder.Encode(ResponseCompleted.Instance, buffer);
        Assert.Equal("""data: {"error":{"code":429,"message":"quota exhausted","status":"RESOURCE_EXHAUSTED"}}""" + "\n\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan[before..]));
    }

    [Fact]
    public void Json_array_errors_close_the_array()
    {
        var encoder = Encoder(framing: StreamFraming.JsonArray);
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new TextDelta(0, "x"), buffer);
        encoder.EncodeError(500, "boom", buffer);
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith(",\r\n" + """{"error":{"code":500,"message":"boom","status":"INTERNAL"}}]""", text);
        Assert.Equal(2, JsonNode.Parse(text)!.AsArray().Count);

        var untouched = new ArrayBufferWriter<byte>();
        Encoder(framing: StreamFraming.JsonArray).EncodeError(503, "down", untouched);
        JsonAssert.Equal("""[{"error":{"code":503,"message":"down","status":"UNAVAILABLE"}}]""", JsonNode.Parse(untouched.WrittenSpan));
    }

    [Fact]
    public void Gemini_stream_survives_decode_then_encode()
    {
        var events = StreamHarness.Decode(GeminiCodec.Instance.CreateStreamDecoder(), GeminiStreamDecodeTests.Transcript);
        var request = new ChatRequest { Reasoning = new ReasoningConfig { Effort = "high", IncludeThoughts = true } };
        var chunks = StreamHarness.ParseSse(StreamHarness.Encode(Encoder(request), events)).Select(e => JsonNode.Parse(e.Data)!).ToList();

        var parts = chunks.SelectMany(c => c["candidates"]![0]!["content"]!["parts"]!.AsArray()).Select(p => p!.DeepClone().AsObject()).ToList();
        foreach (var call in parts.Select(p => p["functionCall"]).OfType<JsonObject>().Where(c => c["id"]!.GetValue<string>().StartsWith("call_", StringComparison.Ordinal)))
            call.Remove("id");
        JsonAssert.Equal("""
            [
              {"text":"**Checking**\nI need the weather.","thought":true},
              {"text":"","thought":true,"thoughtSignature":"CiQB/+=sig"},
              {"text":"Hello "},
              {"text":"world."},
              {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"FC-SIG"},
              {"functionCall":{"name":"get_time","args":{},"id":"t-2"}}
            ]
            """, new JsonArray([.. parts]));
        var last = chunks[^1];
        Assert.Equal("STOP", last["candidates"]![0]!["finishReason"]!.GetValue<string>());
        JsonAssert.Equal("""{"promptTokenCount":12,"candidatesTokenCount":8,"totalTokenCount":25,"cachedContentTokenCount":4,"thoughtsTokenCount":5}""", last["usageMetadata"]);
        JsonAssert.Equal("""{"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://example.com","title":"example.com"}}]}""",
            last["candidates"]![0]!["groundingMetadata"]);
        Assert.All(chunks, c => Assert.Equal(("abc123", "gemini-2.5-pro"), (c["responseId"]!.GetValue<string>(), c["modelVersion"]!.GetValue<string>())));
    }
}
