using System.Text;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Formats.Sse;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

/// <summary>The stream decoder reads each event's UTF-8 bytes in place (a view of the SSE reader's buffer).</summary>
public sealed class StreamDecodeBytesTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    /// <summary>
    /// The reader reuses its buffer for the next event as soon as Decode returns: everything the decoded events keep
    /// (strings, a native item, grounding JSON) must be copied out, never a view of the bytes or of the disposed document.
    /// </summary>
    [Fact]
    public void Events_outlive_the_buffer_they_were_decoded_from()
    {
        var decoder = Codec.CreateStreamDecoder();
        var output = new List<StreamEvent>();

        StreamHarness.DecodeThenOverwrite(decoder, output, "response.created", """{"type":"response.created","response":{"id":"resp_b","model":"gpt-5","created_at":5}}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"type":"response.output_text.delta","output_index":0,"delta":"Hé"}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"type":"response.output_item.done","output_index":1,"item":{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q","n":1.50}}}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"type":"response.output_item.done","output_index":2,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"a"},{"type":"summary_text","text":"b"}],"encrypted_content":"sig=="}}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"type":"response.completed","response":{"status":"completed","grounding_metadata":{"webSearchQueries":["q"]},"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}}""");

        Assert.Equal(
        [
            "started resp_b gpt-5 5",
            "text Hé",
            "native {\"id\":\"ws_1\",\"type\":\"web_search_call\",\"status\":\"completed\",\"action\":{\"type\":\"search\",\"query\":\"q\",\"n\":1.50}}",
            "reasoning a\n\nb",
            "signature sig== OpenAIResponses",
            "grounding {\"webSearchQueries\":[\"q\"]}",
            "usage 3 0 4 0 7",
            "finish Stop completed",
        ], output.Select(Describe));
    }

    /// <summary>
    /// The type is matched without a string (escapes included); without a string <c>type</c> the <c>event:</c> name
    /// decides; deltas of interleaved calls that name only their item id find their call; shapes the DOM's indexers
    /// threw on read as absent.
    /// </summary>
    [Fact]
    public void Types_item_ids_and_wrong_shapes_are_read_leniently()
    {
        const string sse = """
            event: response.created
            data: {"response":"not an object"}

            data: {"type":"response.output_item.added","output_index":0,"item":{"id":"fc_a","type":"function_call","call_id":"call_a","name":"f"}}

            data: {"type":"response.output_item.added","output_index":1,"item":{"id":"fc_b","type":"function_call","call_id":"call_b","name":"g"}}

            data: {"type":"response.function_call_arguments.delt\u0061","item_id":"fc_a","delta":"{\"x\":"}

            event: response.function_call_arguments.delta
            data: {"type":7,"item_id":"fc_b","delta":"{}"}

            data: {"type":"response.function_call_arguments.delta","item_id":"fc_a","delta":"1"}

            data: {"type":"response.function_call_arguments.delta","item_id":"fc_a","delta":"}"}

            data: {"type":"response.function_call_arguments.delta","item_id":"fc_x","output_index":1,"delta":" "}

            data: {"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":"max_output_tokens","usage":{"input_tokens":1,"output_tokens":2,"input_tokens_details":3,"output_tokens_details":"4"}}}


            """;

        var events = StreamHarness.Decode(Codec.CreateStreamDecoder(), sse);

        Assert.Equal("started", Describe(events[0]).Split(' ')[0]);
        Assert.StartsWith("resp_", ((ResponseStarted)events[0]).Id);
        Assert.Equal(
        [
            "call 0 call_a f",
            "call 1 call_b g",
            "args 0 {\"x\":",
            "args 1 {}",
            "args 0 1",
            "args 0 }",
            "args 1  ",
            "usage 1 0 2 0 3",
            "finish Other incomplete",
            "completed",
        ], events.Skip(1).Select(Describe));
    }

    private static string Describe(StreamEvent e) => e switch
    {
        ResponseStarted s => $"started {s.Id} {s.Model} {s.Created}",
        ReasoningDelta r => $"reasoning {r.Text}",
        ReasoningSignature s => $"signature {s.Signature} {s.Dialect}",
        TextDelta t => $"text {t.Text}",
        ToolCallStarted c => $"call {c.Index} {c.Id} {c.Name}",
        ToolCallArgumentsDelta a => $"args {a.Index} {a.Fragment}",
        NativeDelta n => $"native {JsonText.Serialize(n.Part.Json)}",
        GroundingReported g => $"grounding {JsonText.Serialize(g.Metadata)}",
        UsageReported u => $"usage {u.Usage.InputTokens} {u.Usage.CachedInputTokens} {u.Usage.OutputTokens} {u.Usage.ReasoningTokens} {u.Usage.Total}",
        ChoiceFinished f => $"finish {f.Reason} {f.NativeReason}",
        ResponseCompleted => "completed",
        _ => e.GetType().Name,
    };
}
