using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class StreamEncodeTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    private static ChatRequest MinimalRequest() =>
        Codec.DecodeRequest(JsonNode.Parse("""{"model":"gpt-5","input":"hi","stream":true}""")!.AsObject());

    [Fact]
    public void Writes_the_exact_sse_for_a_text_answer()
    {
        var text = StreamHarness.Encode(Codec.CreateStreamEncoder(MinimalRequest()),
        [
            new ResponseStarted("resp_1", "gpt-5", 1700000000),
            new TextDelta(0, "Hel"),
            new TextDelta(0, "lo"),
            new ChoiceFinished(0, FinishReason.Stop),
            new UsageReported(new Usage { InputTokens = 5, OutputTokens = 2 }),
            ResponseCompleted.Instance,
        ]);

        const string envelope = "\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1700000000,\"status\":\"{0}\",\"background\":false,\"error\":null,"
            + "\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":null,\"model\":\"gpt-5\",\"output\":{1},"
            + "\"parallel_tool_calls\":true,\"reasoning\":{{\"effort\":null,\"summary\":null}},\"temperature\":null,\"text\":{{\"format\":{{\"type\":\"text\"}}}},"
            + "\"tools\":[],\"top_p\":null,\"usage\":{2},\"user\":null,\"tool_choice\":\"auto\",\"store\":false,\"metadata\":{{}}";
        const string item = "{\"id\":\"msg_1_0\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hello\"}],\"role\":\"assistant\"}";
        var inProgress = string.Format(envelope, "in_progress", "[]", "null");
        var completed = string.Format(envelope, "completed", "[" + item + "]",
            "{\"input_tokens\":5,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":2,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":7}");
        var expected =
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{" + inProgress + "}}\n\n" +
            "event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{" + inProgress + "}}\n\n" +
            "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"id\":\"msg_1_0\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}}\n\n" +
            "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":3,\"item_id\":\"msg_1_0\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"\"}}\n\n" +
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1_0\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\",\"logprobs\":[]}\n\n" +
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":5,\"item_id\":\"msg_1_0\",\"output_index\":0,\"content_index\":0,\"delta\":\"lo\",\"logprobs\":[]}\n\n" +
            "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":6,\"item_id\":\"msg_1_0\",\"output_index\":0,\"content_index\":0,\"text\":\"Hello\",\"logprobs\":[]}\n\n" +
            "event: response.content_part.done\ndata: {\"type\":\"response.content_part.done\",\"sequence_number\":7,\"item_id\":\"msg_1_0\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hello\"}}\n\n" +
            "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":8,\"output_index\":0,\"item\":" + item + "}\n\n" +
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":9,\"response\":{" + completed + "}}\n\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void Each_item_gets_its_own_output_index_and_done_events_carry_full_content()
    {
        var events = Encode(
        [
            new ResponseStarted("resp_abc", "gpt-5", 1700000000),
            new ReasoningDelta(0, "Let me "),
            new ReasoningDelta(0, "think"),
            new ReasoningSignature(0, "gAAAAAB+/enc==", Dialect.OpenAIResponses),
            new TextDelta(0, "Checking "),
            new TextDelta(0, "both."),
            new ToolCallStarted(0, 0, "call_p", "get_weather"),
            new ToolCallArgumentsDelta(0, 0, "{\"city\":"),
            new ToolCallArgumentsDelta(0, 0, "\"Paris\"}"),
            new ToolCallStarted(0, 1, "call_r", "get_weather"),
            new ToolCallArgumentsDelta(0, 1, "{\"city\":\"Rome\"}"),
            new ChoiceFinished(0, FinishReason.ToolCalls),
            new UsageReported(new Usage { InputTokens = 50, CachedInputTokens = 10, OutputTokens = 40, ReasoningTokens = 12 }),
            ResponseCompleted.Instance,
        ]);

        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e["sequence_number"]!));
        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => (string)e["type"]!));

        var done = events.Where(e => (string?)e["type"] == "response.output_item.done").ToList();
        Assert.Equal([0, 1, 2, 3], done.Select(e => (int)e["output_index"]!));
        JsonAssert.Equal("""{"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"Let me think"}],"encrypted_content":"gAAAAAB+/enc=="}""", done[0]["item"]);
        Assert.Equal("Checking both.", (string?)done[1]["item"]!["content"]![0]!["text"]);
        JsonAssert.Equal("""{"id":"fc_call_p","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_p","name":"get_weather"}""", done[2]["item"]);
        Assert.Equal("{\"city\":\"Rome\"}", (string?)events.Last(e => (string?)e["type"] == "response.function_call_arguments.done")["arguments"]);
        Assert.Equal("Let me think", (string?)events.Single(e => (string?)e["type"] == "response.reasoning_summary_text.done")["text"]);

        var completed = events[^1]["response"]!;
        Assert.Equal("completed", (string?)completed["status"]);
        JsonAssert.Equal(new JsonArray(done.Select(e => e["item"]!.DeepClone()).ToArray()), completed["output"]);
        JsonAssert.Equal("""{"input_tokens":50,"input_tokens_details":{"cached_tokens":10},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":90}""", completed["usage"]);
    }

    [Fact]
    public void Writes_each_event_as_soon_as_it_is_encoded()
    {
        var encoder = Codec.CreateStreamEncoder(MinimalRequest());
        var buffer = new ArrayBufferWriter<byte>();

        encoder.Encode(new ResponseStarted("resp_1", "m", 1), buffer);
        encoder.Encode(new TextDelta(0, "Hi"), buffer);

        var written = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\"delta\":\"Hi\",\"logprobs\":[]}\n\n", written);
        Assert.Equal("text/event-stream", encoder.ContentType);
    }

    [Fact]
    public void Length_finish_ends_with_response_incomplete()
    {
        var events = Encode(
        [
            new ResponseStarted("resp_1", "m", 1),
            new TextDelta(0, "Once upon"),
            new ChoiceFinished(0, FinishReason.Length),
            ResponseCompleted.Instance,
        ]);

        var last = events[^1];
        Assert.Equal("response.incomplete", (string?)last["type"]);
        Assert.Equal("incomplete", (string?)last["response"]!["status"]);
        JsonAssert.Equal("""{"reason":"max_output_tokens"}""", last["response"]!["incomplete_details"]);
        Assert.Equal("incomplete", (string?)events.Single(e => (string?)e["type"] == "response.output_item.done")["item"]!["status"]);
    }

    [Fact]
    public void Foreign_signatures_close_reasoning_without_encrypted_content_and_grounding_reaches_completed()
    {
        var events = Encode(
        [
            new ResponseStarted("resp_g", "gemini-2.5-flash", 1),
            new ReasoningDelta(0, "first thought"),
            new ReasoningSignature(0, "EqQBsig", Dialect.Anthropic),
            new ReasoningDelta(0, "second thought"),
            new TextDelta(0, "Sunny."),
            new GroundingReported(0, JsonNode.Parse("""{"webSearchQueries":["old"]}""")!),
            new GroundingReported(0, JsonNode.Parse("""{"webSearchQueries":["paris weather"]}""")!),
            new ChoiceFinished(0, FinishReason.Stop),
            ResponseCompleted.Instance,
        ]);

        var items = events.Where(e => (string?)e["type"] == "response.output_item.done").Select(e => e["item"]!).ToList();
        Assert.Equal(["reasoning", "reasoning", "message"], items.Select(i => (string)i["type"]!));
        Assert.All(items.Take(2), i => Assert.Null(i["encrypted_content"]));
        JsonAssert.Equal("""{"webSearchQueries":["paris weather"]}""", events[^1]["response"]!["grounding_metadata"]);
    }

    [Fact]
    public void Synthesizes_the_start_and_closes_a_signature_only_reasoning_item()
    {
        var events = Encode(
        [
            new ReasoningSignature(0, "gAAAA-only", Dialect.OpenAIResponses),
            new ToolCallStarted(0, 0, "call_1", "list_files"),
            ResponseCompleted.Instance,
        ]);

        Assert.Equal("response.created", (string?)events[0]["type"]);
        var id = (string)events[0]["response"]!["id"]!;
        Assert.StartsWith("resp_", id);
        Assert.Equal("gpt-5", (string?)events[0]["response"]!["model"]);
        var reasoning = events.First(e => (string?)e["type"] == "response.output_item.done")["item"]!;
        JsonAssert.Equal($$"""{"id":"rs_{{id[5..]}}_0","type":"reasoning","summary":[],"encrypted_content":"gAAAA-only"}""", reasoning);
        Assert.DoesNotContain(events, e => ((string)e["type"]!).StartsWith("response.reasoning_summary", StringComparison.Ordinal));
        // A call that never got arguments still reports valid JSON, and its deltas add up to it.
        Assert.Equal("{}", (string?)events.Single(e => (string?)e["type"] == "response.function_call_arguments.delta")["delta"]);
        Assert.Equal("{}", (string?)events.Single(e => (string?)e["type"] == "response.function_call_arguments.done")["arguments"]);
        Assert.Equal("response.completed", (string?)events[^1]["type"]);
    }

    [Fact]
    public void Other_choices_are_ignored()
    {
        var events = Encode(
        [
            new ResponseStarted("resp_1", "m", 1),
            new TextDelta(1, "other candidate"),
            new TextDelta(0, "main"),
            new ChoiceFinished(1, FinishReason.Length),
            new ChoiceFinished(0, FinishReason.Stop),
            ResponseCompleted.Instance,
        ]);

        Assert.Equal("main", (string?)events.Single(e => (string?)e["type"] == "response.output_text.done")["text"]);
        Assert.Equal("response.completed", (string?)events[^1]["type"]);
    }

    [Fact]
    public void Mid_stream_error_writes_error_then_response_failed_and_stops()
    {
        var encoder = Codec.CreateStreamEncoder(MinimalRequest());
        var buffer = new ArrayBufferWriter<byte>();
        encoder.Encode(new ResponseStarted("resp_1", "m", 1), buffer);
        encoder.Encode(new TextDelta(0, "partial"), buffer);

        encoder.EncodeError(429, "Rate limit reached. Please try again in 20s.", buffer);
        encoder.Encode(new TextDelta(0, "ignored"), buffer);
        encoder.Encode(ResponseCompleted.Instance, buffer);

        var events = StreamHarness.ParseSse(Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "error", "response.failed"],
            events.Select(e => e.Event));
        JsonAssert.Equal("""{"type":"error","sequence_number":5,"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 20s.","param":null}""", JsonNode.Parse(events[5].Data));
        var failed = JsonNode.Parse(events[6].Data)!;
        Assert.Equal(6, (int)failed["sequence_number"]!);
        Assert.Equal("failed", (string?)failed["response"]!["status"]);
        JsonAssert.Equal("""{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 20s."}""", failed["response"]!["error"]);
    }

    private static List<JsonObject> Encode(IEnumerable<StreamEvent> events)
    {
        var text = StreamHarness.Encode(Codec.CreateStreamEncoder(MinimalRequest()), events);
        var parsed = StreamHarness.ParseSse(text);
        Assert.All(parsed, e => Assert.Equal(e.Event, (string?)JsonNode.Parse(e.Data)!["type"]));
        return parsed.Select(e => JsonNode.Parse(e.Data)!.AsObject()).ToList();
    }
}
