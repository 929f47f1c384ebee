using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.CrossDialect.Wire;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>OpenAI Responses. Signed reasoning is a reasoning item's <c>encrypted_content</c>.</summary>
internal sealed partial class OpenAIResponsesSide : DialectSide
{
    public override Dialect Dialect => Dialect.OpenAIResponses;

    public override string ThinkingSignature => "gAAAAB-responses-encrypted==";

    private const string Tools = """
        "tools": [{"type": "function", "name": "get_weather", "description": "Current weather",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, "strict": false}]
        """;

    public override string ClientRequest(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => """
            {"model": "client-model", "instructions": "You are terse.", "input": [
              {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
              {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
              {"type": "function_call", "id": "fc_paris", "call_id": "call_paris", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
              {"type": "function_call_output", "call_id": "call_paris", "output": "Sunny, 21°C"},
              {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Comparing with Lyon."}]},
              {"type": "function_call", "id": "fc_lyon", "call_id": "call_lyon", "name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"},
              {"type": "function_call_output", "call_id": "call_lyon", "output": "Cloudy, 17°C"},
              {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sunny in Paris, cloudy in Lyon."}]},
              {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And tomorrow?"}]}
            ],
            """ + Tools + "}",
        RequestScenario.ParallelToolCalls => """
            {"model": "client-model", "input": [
              {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris and Rome?"}]},
              {"type": "function_call", "call_id": "call_paris", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
              {"type": "function_call", "call_id": "call_rome", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
              {"type": "function_call_output", "call_id": "call_paris", "output": "Sunny, 21°C"},
              {"type": "function_call_output", "call_id": "call_rome", "output": "Rainy, 14°C"}
            ],
            """ + Tools + "}",
        RequestScenario.Image => """
            {"model": "client-model", "input": [{"type": "message", "role": "user", "content": [
              {"type": "input_text", "text": "What is in this picture?"},
              {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]}]}
            """,
        _ => """
            {"model": "client-model", "input": [
              {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is 2+2?"}]},
              {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Simple arithmetic."}], "encrypted_content": "gAAAAB-responses-encrypted=="},
              {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "4"}]},
              {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Times 3?"}]}
            ]}
            """,
    };

    public override IReadOnlyList<string>? ClientCallIds(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => ["call_paris", "call_lyon"],
        RequestScenario.ParallelToolCalls => ["call_paris", "call_rome"],
        _ => null,
    };

    public override string AnswerRequest => """{"model": "client-model", "input": "Hi"}""";

    private const string Usage =
        """ "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 40}, "output_tokens": 50, "output_tokens_details": {"reasoning_tokens": 20}, "total_tokens": 150}""";

    private const string Head = """ "id": "resp_up", "object": "response", "created_at": 1735689600, "model": "gpt-upstream", """;

    private const string Planning =
        """{"id": "rs_plan", "type": "reasoning", "summary": [{"type": "summary_text", "text": "I need both cities."}], "encrypted_content": "gAAAAB-responses-encrypted=="}""";

    private const string CheckingBoth =
        """{"id": "msg_up", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Checking both.", "annotations": []}]}""";

    private const string ParisCall =
        """{"id": "fc_paris", "type": "function_call", "status": "completed", "call_id": "call_paris", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}""";

    private const string RomeCall =
        """{"id": "fc_rome", "type": "function_call", "status": "completed", "call_id": "call_rome", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}""";

    private const string Reasoning =
        """{"id": "rs_up", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Let me think."}], "encrypted_content": "gAAAAB-responses-encrypted=="}""";

    private const string Answer =
        """{"id": "msg_up", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "The answer is 4.", "annotations": []}]}""";

    private const string Sunny =
        """{"id": "msg_up", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Paris is sunny.", "annotations": []}]}""";

    private const string Truncated =
        """{"id": "msg_up", "type": "message", "status": "incomplete", "role": "assistant", "content": [{"type": "output_text", "text": "The answer is", "annotations": []}]}""";

    public override string UpstreamAnswer(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => $$"""{{{Head}} "status": "completed", "output": [{{Planning}}, {{CheckingBoth}}, {{ParisCall}}, {{RomeCall}}], {{Usage}}}""",
        AnswerScenario.Thinking => $$"""{{{Head}} "status": "completed", "output": [{{Reasoning}}, {{Answer}}], {{Usage}}}""",
        AnswerScenario.Length =>
            $$"""{{{Head}} "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [{{Truncated}}], {{Usage}}}""",
        _ => $$"""{{{Head}} "status": "completed", "output": [{{Sunny}}], {{Usage}}, "grounding_metadata": {{Grounding}}}""",
    };

    public override string UpstreamStream(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Events(
            ("response.created", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.in_progress", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.output_item.added", """ "output_index": 0, "item": {"id": "rs_plan", "type": "reasoning", "summary": []}"""),
            ("response.reasoning_summary_part.added", """ "item_id": "rs_plan", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}"""),
            ("response.reasoning_summary_text.delta", """ "item_id": "rs_plan", "output_index": 0, "summary_index": 0, "delta": "I need both cities." """),
            ("response.reasoning_summary_text.done", """ "item_id": "rs_plan", "output_index": 0, "summary_index": 0, "text": "I need both cities." """),
            ("response.reasoning_summary_part.done", """ "item_id": "rs_plan", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": "I need both cities."}"""),
            ("response.output_item.done", $""" "output_index": 0, "item": {Planning}"""),
            ("response.output_item.added", """ "output_index": 1, "item": {"id": "msg_up", "type": "message", "status": "in_progress", "role": "assistant", "content": []}"""),
            ("response.content_part.added", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}"""),
            ("response.output_text.delta", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "delta": "Checking " """),
            ("response.output_text.delta", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "delta": "both." """),
            ("response.output_text.done", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "text": "Checking both." """),
            ("response.content_part.done", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "part": {"type": "output_text", "text": "Checking both.", "annotations": []}"""),
            ("response.output_item.done", $""" "output_index": 1, "item": {CheckingBoth}"""),
            ("response.output_item.added", """ "output_index": 2, "item": {"id": "fc_paris", "type": "function_call", "status": "in_progress", "call_id": "call_paris", "name": "get_weather", "arguments": ""}"""),
            ("response.function_call_arguments.delta", """ "item_id": "fc_paris", "output_index": 2, "delta": "{\"city\":" """),
            ("response.function_call_arguments.delta", """ "item_id": "fc_paris", "output_index": 2, "delta": "\"Paris\"}" """),
            ("response.function_call_arguments.done", """ "item_id": "fc_paris", "output_index": 2, "arguments": "{\"city\":\"Paris\"}" """),
            ("response.output_item.done", $""" "output_index": 2, "item": {ParisCall}"""),
            ("response.output_item.added", """ "output_index": 3, "item": {"id": "fc_rome", "type": "function_call", "status": "in_progress", "call_id": "call_rome", "name": "get_weather", "arguments": ""}"""),
            ("response.function_call_arguments.delta", """ "item_id": "fc_rome", "output_index": 3, "delta": "{\"city\":\"Rome\"}" """),
            ("response.function_call_arguments.done", """ "item_id": "fc_rome", "output_index": 3, "arguments": "{\"city\":\"Rome\"}" """),
            ("response.output_item.done", $""" "output_index": 3, "item": {RomeCall}"""),
            ("response.completed", $$""" "response": {{{Head}} "status": "completed", "output": [{{Planning}}, {{CheckingBoth}}, {{ParisCall}}, {{RomeCall}}], {{Usage}}}""")),
        AnswerScenario.Thinking => Events(
            ("response.created", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.in_progress", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.output_item.added", """ "output_index": 0, "item": {"id": "rs_up", "type": "reasoning", "summary": []}"""),
            ("response.reasoning_summary_part.added", """ "item_id": "rs_up", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}"""),
            ("response.reasoning_summary_text.delta", """ "item_id": "rs_up", "output_index": 0, "summary_index": 0, "delta": "Let me " """),
            ("response.reasoning_summary_text.delta", """ "item_id": "rs_up", "output_index": 0, "summary_index": 0, "delta": "think." """),
            ("response.reasoning_summary_text.done", """ "item_id": "rs_up", "output_index": 0, "summary_index": 0, "text": "Let me think." """),
            ("response.reasoning_summary_part.done", """ "item_id": "rs_up", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": "Let me think."}"""),
            ("response.output_item.done", $""" "output_index": 0, "item": {Reasoning}"""),
            ("response.output_item.added", """ "output_index": 1, "item": {"id": "msg_up", "type": "message", "status": "in_progress", "role": "assistant", "content": []}"""),
            ("response.content_part.added", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}"""),
            ("response.output_text.delta", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "delta": "The answer is 4." """),
            ("response.output_text.done", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "text": "The answer is 4." """),
            ("response.content_part.done", """ "item_id": "msg_up", "output_index": 1, "content_index": 0, "part": {"type": "output_text", "text": "The answer is 4.", "annotations": []}"""),
            ("response.output_item.done", $""" "output_index": 1, "item": {Answer}"""),
            ("response.completed", $$""" "response": {{{Head}} "status": "completed", "output": [{{Reasoning}}, {{Answer}}], {{Usage}}}""")),
        AnswerScenario.Length => Events(
            ("response.created", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.in_progress", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.output_item.added", """ "output_index": 0, "item": {"id": "msg_up", "type": "message", "status": "in_progress", "role": "assistant", "content": []}"""),
            ("response.content_part.added", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}"""),
            ("response.output_text.delta", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "delta": "The answer is" """),
            ("response.output_text.done", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "text": "The answer is" """),
            ("response.content_part.done", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "The answer is", "annotations": []}"""),
            ("response.output_item.done", $""" "output_index": 0, "item": {Truncated}"""),
            ("response.incomplete",
                $$""" "response": {{{Head}} "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [{{Truncated}}], {{Usage}}}""")),
        _ => Events(
            ("response.created", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.in_progress", $$""" "response": {{{Head}} "status": "in_progress", "output": []}"""),
            ("response.output_item.added", """ "output_index": 0, "item": {"id": "msg_up", "type": "message", "status": "in_progress", "role": "assistant", "content": []}"""),
            ("response.content_part.added", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}"""),
            ("response.output_text.delta", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "delta": "Paris is sunny." """),
            ("response.output_text.done", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "text": "Paris is sunny." """),
            ("response.content_part.done", """ "item_id": "msg_up", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "Paris is sunny.", "annotations": []}"""),
            ("response.output_item.done", $""" "output_index": 0, "item": {Sunny}"""),
            ("response.completed",
                $$""" "response": {{{Head}} "status": "completed", "output": [{{Sunny}}], {{Usage}}, "grounding_metadata": {{Grounding.ReplaceLineEndings(" ")}}}""")),
    };

    /// <summary>Each event as OpenAI sends it: an <c>event:</c> line and data with type and sequence number first.</summary>
    private static string Events(params (string Type, string Fields)[] events)
    {
        var sse = new StringBuilder();
        for (var i = 0; i < events.Length; i++)
            sse.Append($$"""event: {{events[i].Type}}{{"\n"}}data: {"type": "{{events[i].Type}}", "sequence_number": {{i}}, {{events[i].Fields}}}{{"\n\n"}}""");
        return sse.ToString();
    }

    public override IReadOnlyList<string>? UpstreamCallIds => ["call_paris", "call_rome"];

    // ---- readers ----

    public override Facts ReadRequest(JsonObject body)
    {
        var head = new Facts();
        var conversation = new Facts();
        if (Str(body["instructions"]) is { } instructions) head.Add("system", instructions);
        foreach (var item in Objects(body["input"]))
        {
            switch (Str(item["type"]))
            {
                case "message":
                    var role = Str(item["role"]);
                    foreach (var part in Objects(item["content"]))
                    {
                        switch (role, Str(part["type"]))
                        {
                            case ("system" or "developer", "input_text"):
                                head.Add("system", Str(part["text"])!);
                                break;
                            case ("user", "input_text"):
                            case ("assistant", "output_text"):
                                conversation.Text(role, Str(part["text"])!);
                                break;
                            case ("user", "input_image"):
                                var (mediaType, data) = DataUrl(Str(part["image_url"])!);
                                conversation.Image("user", mediaType, data);
                                break;
                            default:
                                Assert.Fail($"unexpected {role} content {part.ToJsonString()}");
                                break;
                        }
                    }
                    break;
                case "function_call":
                    conversation.Call("assistant", Str(item["call_id"])!, Str(item["name"])!, Str(item["arguments"])!);
                    break;
                case "function_call_output":
                    var output = item["output"];
                    conversation.Result(Str(item["call_id"])!, Str(output) ?? string.Concat(Objects(output).Select(p => Str(p["text"]))));
                    break;
                case "reasoning":
                    conversation.Thinking("assistant", SummaryText(item), Str(item["encrypted_content"]));
                    break;
                default:
                    Assert.Fail("unexpected input item " + item.ToJsonString());
                    break;
            }
        }
        foreach (var tool in Objects(body["tools"]))
        {
            Assert.Equal("function", Str(tool["type"]));
            head.Add("declare", $"{Str(tool["name"])} {Str(tool["description"])} {Facts.Json(tool["parameters"])}");
        }
        return Facts.Join(head, conversation);
    }

    private static string SummaryText(JsonObject item) => string.Join("\n\n", Objects(item["summary"]).Select(s => Str(s["text"])));

    public override AnswerFacts ReadAnswer(JsonObject body)
    {
        var content = new AnswerBuilder();
        foreach (var item in Objects(body["output"])) ReadItem(item, content);
        return Outcome(body, content.Build());
    }

    private static void ReadItem(JsonObject item, AnswerBuilder content)
    {
        switch (Str(item["type"]))
        {
            case "reasoning":
                content.Thinking(SummaryText(item));
                content.ThinkingSignature(Str(item["encrypted_content"]));
                break;
            case "message":
                Assert.Equal("assistant", Str(item["role"]));
                foreach (var part in Objects(item["content"])) content.Text(Str(part["text"])!);
                break;
            case "function_call":
                var callId = Str(item["call_id"])!;
                content.StartCall(callId, callId, Str(item["name"])!);
                content.CallArguments(callId, Str(item["arguments"])!);
                break;
            default:
                Assert.Fail("unexpected output item " + item.ToJsonString());
                break;
        }
    }

    /// <summary>Finish, usage and grounding of a response object; tool_calls is a completed response with function calls.</summary>
    private static AnswerFacts Outcome(JsonObject response, Facts content)
    {
        Assert.Equal("response", Str(response["object"]));
        var status = Str(response["status"]);
        var finish = (status, Str(response["incomplete_details"]?["reason"])) switch
        {
            ("completed", null) when Objects(response["output"]).Any(i => Str(i["type"]) == "function_call") => "tool_calls",
            ("completed", null) => "stop",
            ("incomplete", "max_output_tokens") => "length",
            var other => $"{other}",
        };
        var usage = response["usage"] is JsonObject u
            ? new UsageFacts(Num(u["input_tokens"])!.Value, Num(u["input_tokens_details"]?["cached_tokens"]) ?? 0, Num(u["output_tokens"])!.Value,
                Num(u["output_tokens_details"]?["reasoning_tokens"]) ?? 0, Num(u["total_tokens"]))
            : null;
        return new AnswerFacts(content, finish, usage, response["grounding_metadata"]);
    }

    /// <summary>
    /// response.created, response.in_progress, then per item output_item.added, its part/delta/done events and
    /// output_item.done, then response.completed (response.incomplete when cut off). Event lines name the data type,
    /// sequence numbers count from 0, output indexes count items, and every done event repeats what the deltas built.
    /// </summary>
    public override AnswerFacts ReadStream(string sse)
    {
        var events = StreamHarness.ParseSse(sse);
        var content = new AnswerBuilder();
        var sequence = new StringBuilder();
        var doneItems = new JsonArray();
        JsonObject? item = null;
        var built = new StringBuilder();
        JsonObject? final = null;
        for (var i = 0; i < events.Count; i++)
        {
            var data = Parse(events[i].Data);
            var type = Str(data["type"]);
            Assert.Equal(type, events[i].Event);
            Assert.Equal(i, Num(data["sequence_number"]));
            Assert.Null(final);
            if (type is not ("response.created" or "response.in_progress" or "response.completed" or "response.incomplete" or "response.output_item.added"))
            {
                Assert.NotNull(item);
                Assert.Equal(doneItems.Count, Num(data["output_index"]));
                if (data.ContainsKey("item_id")) Assert.Equal(Str(item!["id"]), Str(data["item_id"]));
            }
            switch (type)
            {
                case "response.created":
                    sequence.Append('C');
                    break;
                case "response.in_progress":
                    sequence.Append('I');
                    break;
                case "response.output_item.added":
                    Assert.Null(item);
                    Assert.Equal(doneItems.Count, Num(data["output_index"]));
                    item = data["item"]!.AsObject();
                    built.Clear();
                    var itemType = Str(item["type"]);
                    sequence.Append(itemType switch { "message" => 'M', "reasoning" => 'N', "function_call" => 'G', _ => '?' });
                    if (itemType == "function_call") content.StartCall(Str(item["id"])!, Str(item["call_id"])!, Str(item["name"])!);
                    break;
                case "response.content_part.added":
                    sequence.Append('p');
                    break;
                case "response.output_text.delta":
                    sequence.Append('t');
                    built.Append(Str(data["delta"]));
                    content.Text(Str(data["delta"])!);
                    break;
                case "response.output_text.done":
                    sequence.Append('T');
                    Assert.Equal(built.ToString(), Str(data["text"]));
                    break;
                case "response.content_part.done":
                    sequence.Append('q');
                    Assert.Equal(built.ToString(), Str(data["part"]!["text"]));
                    break;
                case "response.reasoning_summary_part.added":
                    sequence.Append('r');
                    break;
                case "response.reasoning_summary_text.delta":
                    sequence.Append('s');
                    built.Append(Str(data["delta"]));
                    content.Thinking(Str(data["delta"])!);
                    break;
                case "response.reasoning_summary_text.done":
                    sequence.Append('S');
                    Assert.Equal(built.ToString(), Str(data["text"]));
                    break;
                case "response.reasoning_summary_part.done":
                    sequence.Append('R');
                    Assert.Equal(built.ToString(), Str(data["part"]!["text"]));
                    break;
                case "response.function_call_arguments.delta":
                    sequence.Append('f');
                    built.Append(Str(data["delta"]));
                    content.CallArguments(Str(item!["id"])!, Str(data["delta"])!);
                    break;
                case "response.function_call_arguments.done":
                    sequence.Append('F');
                    Assert.Equal(built.ToString(), Str(data["arguments"]));
                    break;
                case "response.output_item.done":
                    sequence.Append('O');
                    var done = data["item"]!.AsObject();
                    Assert.Equal(Str(item!["id"]), Str(done["id"]));
                    var doneText = Str(done["type"]) switch
                    {
                        "message" => string.Concat(Objects(done["content"]).Select(p => Str(p["text"]))),
                        "reasoning" => SummaryText(done),
                        _ => Str(done["arguments"]),
                    };
                    Assert.Equal(built.ToString(), doneText);
                    if (Str(done["type"]) == "reasoning") content.ThinkingSignature(Str(done["encrypted_content"]));
                    doneItems.Add(done.DeepClone());
                    item = null;
                    break;
                case "response.completed" or "response.incomplete":
                    sequence.Append(type == "response.completed" ? 'Z' : 'Y');
                    final = data["response"]!.AsObject();
                    break;
                default:
                    Assert.Fail("unexpected event " + type);
                    break;
            }
        }
        Assert.Matches(ResponsesSequence(), sequence.ToString());
        JsonAssert.Equal(doneItems, final!["output"]);
        Assert.Equal(sequence[^1] == 'Y' ? "incomplete" : "completed", Str(final["status"]));
        return Outcome(final, content.Build());
    }

    [GeneratedRegex("^CI(Mpt+TqO|N(rs+SR)?O|Gf+FO)*[ZY]$")]
    private static partial Regex ResponsesSequence();
}
