using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Formats.Sse;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class StreamDecodeTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    /// <summary>A Codex-backend transcript: reasoning summary with two parts, text, two parallel calls, usage.</summary>
    private const string Transcript = """
        event: response.created
        data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_0f1","object":"response","created_at":1756000000,"status":"in_progress","model":"gpt-5-codex","output":[]}}

        event: response.in_progress
        data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_0f1","object":"response","created_at":1756000000,"status":"in_progress","model":"gpt-5-codex","output":[]}}

        event: response.output_item.added
        data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_0f1","type":"reasoning","summary":[]}}

        event: response.reasoning_summary_part.added
        data: {"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_0f1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}

        event: response.reasoning_summary_text.delta
        data: {"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_0f1","output_index":0,"summary_index":0,"delta":"**Planning**"}

        event: response.reasoning_summary_part.added
        data: {"type":"response.reasoning_summary_part.added","sequence_number":5,"item_id":"rs_0f1","output_index":0,"summary_index":1,"part":{"type":"summary_text","text":""}}

        event: response.reasoning_summary_text.delta
        data: {"type":"response.reasoning_summary_text.delta","sequence_number":6,"item_id":"rs_0f1","output_index":0,"summary_index":1,"delta":"Read both files."}

        event: response.output_item.done
        data: {"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"rs_0f1","type":"reasoning","summary":[{"type":"summary_text","text":"**Planning**"},{"type":"summary_text","text":"Read both files."}],"encrypted_content":"gAAAAABpZ+/sig=="}}

        event: response.output_item.added
        data: {"type":"response.output_item.added","sequence_number":8,"output_index":1,"item":{"id":"msg_0f1","type":"message","status":"in_progress","content":[],"role":"assistant"}}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","sequence_number":9,"item_id":"msg_0f1","output_index":1,"content_index":0,"delta":"Reading "}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","sequence_number":10,"item_id":"msg_0f1","output_index":1,"content_index":0,"delta":"files."}

        event: response.output_item.done
        data: {"type":"response.output_item.done","sequence_number":11,"output_index":1,"item":{"id":"msg_0f1","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"text":"Reading files."}],"role":"assistant"}}

        event: response.output_item.added
        data: {"type":"response.output_item.added","sequence_number":12,"output_index":2,"item":{"id":"fc_a","type":"function_call","status":"in_progress","arguments":"","call_id":"call_a","name":"read_file"}}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","sequence_number":13,"item_id":"fc_a","output_index":2,"delta":"{\"path\":"}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","sequence_number":14,"item_id":"fc_a","output_index":2,"delta":"\"a.cs\"}"}

        event: response.output_item.done
        data: {"type":"response.output_item.done","sequence_number":15,"output_index":2,"item":{"id":"fc_a","type":"function_call","status":"completed","arguments":"{\"path\":\"a.cs\"}","call_id":"call_a","name":"read_file"}}

        event: response.output_item.added
        data: {"type":"response.output_item.added","sequence_number":16,"output_index":3,"item":{"id":"fc_b","type":"function_call","status":"in_progress","arguments":"","call_id":"call_b","name":"read_file"}}

        event: response.output_item.done
        data: {"type":"response.output_item.done","sequence_number":17,"output_index":3,"item":{"id":"fc_b","type":"function_call","status":"completed","arguments":"{\"path\":\"b.cs\"}","call_id":"call_b","name":"read_file"}}

        event: response.completed
        data: {"type":"response.completed","sequence_number":18,"response":{"id":"resp_0f1","object":"response","created_at":1756000000,"status":"completed","model":"gpt-5-codex","output":[],"usage":{"input_tokens":2000,"input_tokens_details":{"cached_tokens":1536},"output_tokens":180,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":2180}}}


        """;

    [Fact]
    public void Decodes_a_realistic_transcript()
    {
        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), Transcript);

        Assert.Equal(
        [
            "started resp_0f1 gpt-5-codex 1756000000",
            "reasoning **Planning**",
            "reasoning \n\n",
            "reasoning Read both files.",
            "signature gAAAAABpZ+/sig== OpenAIResponses",
            "text Reading ",
            "text files.",
            "call 0 call_a read_file",
            "args 0 {\"path\":",
            "args 0 \"a.cs\"}",
            "call 1 call_b read_file",
            "args 1 {\"path\":\"b.cs\"}",
            "usage 2000 1536 180 64 2180",
            "finish ToolCalls completed",
            "completed",
        ], events.Select(Describe));
    }

    [Fact]
    public void Works_without_event_lines_and_with_only_done_items()
    {
        // The minimal stream Codex itself accepts: deltas may be missing, output_item.done carries the content.
        const string sse = """
            data: {"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","summary":[{"type":"summary_text","text":"hmm"}]}}

            data: {"type":"response.output_item.done","output_index":1,"item":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi from fake"}]}}

            data: {"type":"response.completed","response":{"id":"resp_x","status":"completed","output":[]}}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        Assert.IsType<ResponseStarted>(events[0]);
        Assert.Equal(["reasoning hmm", "text hi from fake", "finish Stop completed", "completed"], events.Skip(1).Select(Describe));
    }

    [Fact]
    public void Uses_the_completed_output_when_no_items_streamed()
    {
        const string sse = """
            event: response.completed
            data: {"type":"response.completed","response":{"id":"resp_y","model":"m","created_at":5,"status":"completed","output":[
            data: {"type":"message","content":[{"type":"output_text","text":"whole"}]},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}],
            data: "grounding_metadata":{"webSearchQueries":["q"]}}}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        Assert.Equal(["started resp_y m 5", "text whole", "call 0 c1 f", "args 0 {}", "grounding {\"webSearchQueries\":[\"q\"]}", "finish ToolCalls completed", "completed"],
            events.Select(Describe));
    }

    [Fact]
    public void Incomplete_for_max_output_tokens_is_a_length_finish()
    {
        const string sse = """
            event: response.output_text.delta
            data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Once"}

            event: response.incomplete
            data: {"type":"response.incomplete","response":{"id":"resp_z","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":1,"total_tokens":4}}}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        Assert.Equal(["text Once", "usage 3 0 1 0 4", "finish Length max_output_tokens", "completed"], events.Skip(1).Select(Describe));
    }

    [Fact]
    public void A_stream_cut_short_is_finished_by_complete()
    {
        const string sse = """
            data: {"type":"response.created","response":{"id":"resp_c","model":"m","created_at":1}}

            data: {"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"f"}}

            data: {"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{}"}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        Assert.Equal(["started resp_c m 1", "call 0 call_1 f", "args 0 {}", "finish ToolCalls ", "completed"], events.Select(Describe));
    }

    [Fact]
    public void Hosted_tool_items_pass_through_as_native_parts()
    {
        const string sse = """
            data: {"type":"response.output_item.done","output_index":0,"item":{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q"}}}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        var native = Assert.IsType<NativeDelta>(events[1]);
        Assert.Equal(Dialect.OpenAIResponses, native.Part.Dialect);
        JsonAssert.Equal("""{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q"}}""", native.Part.Json);
    }

    [Theory]
    [InlineData("response.failed", """{"type":"response.failed","response":{"id":"resp_f","status":"failed","error":{"code":"server_error","message":"The model failed"}}}""", "The model failed")]
    [InlineData("error", """{"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":null}""", "Slow down")]
    [InlineData("error", """{"type":"error","error":{"type":"invalid_request_error","message":"Bad input"}}""", "Bad input")]
    public void Upstream_failures_throw_an_upstream_exception(string eventName, string data, string message)
    {
        var decoder = Codec.CreateStreamDecoder();

        var error = Assert.Throws<UpstreamException>(() => decoder.Decode(new SseEvent(eventName, data), []));

        Assert.Equal((FailureKind.Transient, 502, message), (error.Kind, error.StatusCode, error.Message));
    }

    [Fact]
    public void Decoded_events_re_encode_to_the_same_items()
    {
        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), Transcript);
        var request = Codec.DecodeRequest(JsonNode.Parse("""{"model":"gpt-5-codex","input":"go"}""")!.AsObject());

        var sse = StreamHarness.ParseSse(StreamHarness.Encode(Codec.CreateStreamEncoder(request), events));
        var completed = JsonNode.Parse(sse[^1].Data)!["response"]!;

        JsonAssert.Equal("""
            [
              {"id":"rs_0f1_0","type":"reasoning","summary":[{"type":"summary_text","text":"**Planning**\n\nRead both files."}],"encrypted_content":"gAAAAABpZ+/sig=="},
              {"id":"msg_0f1_1","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Reading files."}],"role":"assistant"},
              {"id":"fc_call_a","type":"function_call","status":"completed","arguments":"{\"path\":\"a.cs\"}","call_id":"call_a","name":"read_file"},
              {"id":"fc_call_b","type":"function_call","status":"completed","arguments":"{\"path\":\"b.cs\"}","call_id":"call_b","name":"read_file"}
            ]
            """, completed["output"]);
        Assert.Equal("resp_0f1", (string?)completed["id"]);
    }

    private static string Describe(StreamEvent e) => e switch
    {
        ResponseStarted s => $"started {s.Id} {s.Model} {s.Created}",
        ReasoningDelta r => $"reasoning {r.Text}",
        ReasoningSignature s => $"signature {s.Signature} {s.Dialect}",
        TextDelta t => $"text {t.Text}",
        ToolCallStarted c => $"call {c.Index} {c.Id} {c.Name}",
        ToolCallArgumentsDelta a => $"args {a.Index} {a.Fragment}",
        GroundingReported g => $"grounding {g.Metadata.ToJsonString()}",
        UsageReported u => $"usage {u.Usage.InputTokens} {u.Usage.CachedInputTokens} {u.Usage.OutputTokens} {u.Usage.ReasoningTokens} {u.Usage.Total}",
        ChoiceFinished f => $"finish {f.Reason} {f.NativeReason}",
        ResponseCompleted => "completed",
        _ => e.GetType().Name,
    };
}
