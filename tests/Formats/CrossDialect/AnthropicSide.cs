using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.CrossDialect.Wire;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>Anthropic Messages. Signed reasoning is a <c>thinking</c> block's <c>signature</c>.</summary>
internal sealed partial class AnthropicSide : DialectSide
{
    public override Dialect Dialect => Dialect.Anthropic;

    public override string ThinkingSignature => "EqQBCkYIBRgCKkAanthropic/sig+==";

    private const string Tools = """
        "tools": [{"name": "get_weather", "description": "Current weather",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
        """;

    public override string ClientRequest(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => """
            {"model": "client-model", "max_tokens": 1024, "system": "You are terse.", "messages": [
              {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {"city": "Paris"}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_paris", "content": "Sunny, 21°C"}]},
              {"role": "assistant", "content": [
                {"type": "text", "text": "Comparing with Lyon."},
                {"type": "tool_use", "id": "toolu_lyon", "name": "get_weather", "input": {"city": "Lyon"}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_lyon", "content": [{"type": "text", "text": "Cloudy, 17°C"}]}]},
              {"role": "assistant", "content": "Sunny in Paris, cloudy in Lyon."},
              {"role": "user", "content": "And tomorrow?"}
            ],
            """ + Tools + "}",
        RequestScenario.ParallelToolCalls => """
            {"model": "client-model", "max_tokens": 1024, "messages": [
              {"role": "user", "content": "Weather in Paris and Rome?"},
              {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_rome", "name": "get_weather", "input": {"city": "Rome"}}]},
              {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_paris", "content": "Sunny, 21°C"},
                {"type": "tool_result", "tool_use_id": "toolu_rome", "content": "Rainy, 14°C"}]}
            ],
            """ + Tools + "}",
        RequestScenario.Image => """
            {"model": "client-model", "max_tokens": 1024, "messages": [{"role": "user", "content": [
              {"type": "text", "text": "What is in this picture?"},
              {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}]}
            """,
        _ => """
            {"model": "client-model", "max_tokens": 1024, "messages": [
              {"role": "user", "content": "What is 2+2?"},
              {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Simple arithmetic.", "signature": "EqQBCkYIBRgCKkAanthropic/sig+=="},
                {"type": "text", "text": "4"}]},
              {"role": "user", "content": "Times 3?"}
            ]}
            """,
    };

    public override IReadOnlyList<string>? ClientCallIds(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => ["toolu_paris", "toolu_lyon"],
        RequestScenario.ParallelToolCalls => ["toolu_paris", "toolu_rome"],
        _ => null,
    };

    public override JsonObject IdentityRequest(RequestScenario scenario)
    {
        var body = base.IdentityRequest(scenario);
        // A lone plain text block is sent as a string, the shortest form (also inside tool results).
        if (scenario == RequestScenario.ToolLoop) body["messages"]![4]!["content"]![0]!["content"] = "Cloudy, 17°C";
        return body;
    }

    public override string AnswerRequest => """{"model": "client-model", "max_tokens": 1024, "messages": [{"role": "user", "content": "Hi"}]}""";

    private const string Usage = """ "usage": {"input_tokens": 60, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 50}""";

    private const string Head = """ "id": "msg_up", "type": "message", "role": "assistant", "model": "claude-upstream", """;

    public override string UpstreamAnswer(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Message("tool_use", """
            {"type": "thinking", "thinking": "I need both cities.", "signature": "EqQBCkYIBRgCKkAanthropic/sig+=="},
            {"type": "text", "text": "Checking both."},
            {"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_rome", "name": "get_weather", "input": {"city": "Rome"}}
            """),
        AnswerScenario.Thinking => Message("end_turn", """
            {"type": "thinking", "thinking": "Let me think.", "signature": "EqQBCkYIBRgCKkAanthropic/sig+=="},
            {"type": "text", "text": "The answer is 4."}
            """),
        AnswerScenario.Length => Message("max_tokens", """{"type": "text", "text": "The answer is"}"""),
        _ => Message("end_turn", """{"type": "text", "text": "Paris is sunny."}""", $""" "grounding_metadata": {Grounding},"""),
    };

    private static string Message(string stopReason, string content, string grounding = "") =>
        $$"""{{{Head}} "content": [{{content}}], "stop_reason": "{{stopReason}}", "stop_sequence": null, {{grounding}} {{Usage}}}""";

    private const string MessageStart =
        """{"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant", "model": "claude-upstream", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 60, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 1}}}""";

    public override string UpstreamStream(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Events(
            MessageStart,
            """{"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}""",
            """{"type": "ping"}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need both cities."}}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCkYIBRgCKkAanthropic/sig+=="}}""",
            """{"type": "content_block_stop", "index": 0}""",
            """{"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}""",
            """{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Checking "}}""",
            """{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "both."}}""",
            """{"type": "content_block_stop", "index": 1}""",
            """{"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {}}}""",
            """{"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}""",
            """{"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}}""",
            """{"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}""",
            """{"type": "content_block_stop", "index": 2}""",
            """{"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_rome", "name": "get_weather", "input": {}}}""",
            """{"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Rome\"}"}}""",
            """{"type": "content_block_stop", "index": 3}""",
            """{"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 50}}""",
            """{"type": "message_stop"}"""),
        AnswerScenario.Thinking => Events(
            MessageStart,
            """{"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}""",
            """{"type": "ping"}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me "}}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "think."}}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCkYIBRgCKkAanthropic/sig+=="}}""",
            """{"type": "content_block_stop", "index": 0}""",
            """{"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}""",
            """{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "The answer is 4."}}""",
            """{"type": "content_block_stop", "index": 1}""",
            """{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 50}}""",
            """{"type": "message_stop"}"""),
        AnswerScenario.Length => Events(
            MessageStart,
            """{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}""",
            """{"type": "ping"}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "The answer is"}}""",
            """{"type": "content_block_stop", "index": 0}""",
            """{"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": null}, "usage": {"output_tokens": 50}}""",
            """{"type": "message_stop"}"""),
        _ => Events(
            MessageStart,
            """{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}""",
            """{"type": "ping"}""",
            """{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Paris is sunny."}}""",
            """{"type": "content_block_stop", "index": 0}""",
            """{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 50}, "grounding_metadata": """
                + Grounding.ReplaceLineEndings(" ") + "}",
            """{"type": "message_stop"}"""),
    };

    /// <summary>Each data object with the <c>event:</c> line Anthropic puts before it.</summary>
    private static string Events(params string[] data) =>
        string.Concat(data.Select(d => $"event: {Str(Parse(d)["type"])}\ndata: {d}\n\n"));

    public override IReadOnlyList<string>? UpstreamCallIds => ["toolu_paris", "toolu_rome"];

    // ---- readers ----

    /// <summary>Also checks what Anthropic enforces: turns alternate, starting with the user.</summary>
    public override Facts ReadRequest(JsonObject body)
    {
        var head = new Facts();
        var conversation = new Facts();
        switch (body["system"])
        {
            case null:
                break;
            case JsonArray blocks:
                foreach (var block in blocks.OfType<JsonObject>()) head.Add("system", Str(block["text"])!);
                break;
            case var text:
                head.Add("system", Str(text)!);
                break;
        }
        var expectedRole = "user";
        foreach (var message in Objects(body["messages"]))
        {
            var role = Str(message["role"])!;
            Assert.Equal(expectedRole, role);
            expectedRole = role == "user" ? "assistant" : "user";
            if (Str(message["content"]) is { } text)
            {
                conversation.Text(role, text);
                continue;
            }
            foreach (var block in Objects(message["content"]))
            {
                switch (Str(block["type"]))
                {
                    case "text":
                        conversation.Text(role, Str(block["text"])!);
                        break;
                    case "image":
                        var source = block["source"]!;
                        Assert.Equal("base64", Str(source["type"]));
                        conversation.Image(role, Str(source["media_type"]), Str(source["data"])!);
                        break;
                    case "thinking":
                        conversation.Thinking(role, Str(block["thinking"])!, Str(block["signature"]));
                        break;
                    case "tool_use":
                        Assert.Equal("assistant", role);
                        conversation.Call(role, Str(block["id"])!, Str(block["name"])!, Facts.Json(block["input"]));
                        break;
                    case "tool_result":
                        Assert.Equal("user", role);
                        var content = block["content"];
                        conversation.Result(Str(block["tool_use_id"])!, Str(content) ?? string.Concat(Objects(content).Select(b => Str(b["text"]))));
                        break;
                    default:
                        Assert.Fail("unexpected block " + block.ToJsonString());
                        break;
                }
            }
        }
        foreach (var tool in Objects(body["tools"]))
            head.Add("declare", $"{Str(tool["name"])} {Str(tool["description"])} {Facts.Json(tool["input_schema"])}");
        return Facts.Join(head, conversation);
    }

    public override AnswerFacts ReadAnswer(JsonObject body)
    {
        Assert.Equal(("message", "assistant"), (Str(body["type"]), Str(body["role"])));
        var content = new AnswerBuilder();
        var index = 0;
        foreach (var block in Objects(body["content"]))
        {
            StartBlock(block, (index++).ToString(CultureInfo.InvariantCulture), content);
        }
        return new AnswerFacts(content.Build(), Finish(Str(body["stop_reason"])), ReadUsage(body["usage"]!.AsObject(), null), body["grounding_metadata"]);
    }

    private static void StartBlock(JsonObject block, string key, AnswerBuilder content)
    {
        switch (Str(block["type"]))
        {
            case "text":
                content.Text(Str(block["text"])!);
                break;
            case "thinking":
                content.Thinking(Str(block["thinking"])!);
                // Unsigned thinking is shown with signature "", which is no signature.
                Assert.NotNull(Str(block["signature"]));
                content.ThinkingSignature(Str(block["signature"]));
                break;
            case "tool_use":
                content.StartCall(key, Str(block["id"])!, Str(block["name"])!);
                if (block["input"] is JsonObject { Count: > 0 } input) content.CallArguments(key, input.ToJsonString());
                break;
            default:
                Assert.Fail("unexpected block " + block.ToJsonString());
                break;
        }
    }

    private static string? Finish(string? stopReason) => stopReason switch
    {
        "end_turn" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        _ => stopReason,
    };

    /// <summary>Anthropic's input_tokens leave out cache reads and writes; the client adds them up.</summary>
    private static UsageFacts ReadUsage(JsonObject usage, JsonObject? start)
    {
        long Count(string key) => Num(usage[key]) ?? Num(start?[key]) ?? 0;
        var cached = Count("cache_read_input_tokens");
        return new UsageFacts(Count("input_tokens") + cached + Count("cache_creation_input_tokens"), cached, Count("output_tokens"), null, null);
    }

    /// <summary>
    /// message_start, ping, then per block content_block_start, its deltas and content_block_stop (indexes counting from
    /// 0), then message_delta and message_stop; each data object after an <c>event:</c> line naming its type.
    /// </summary>
    public override AnswerFacts ReadStream(string sse)
    {
        var content = new AnswerBuilder();
        var sequence = new StringBuilder();
        var blocks = 0;
        var open = -1;
        JsonObject? start = null;
        JsonObject? messageDelta = null;
        foreach (var e in StreamHarness.ParseSse(sse))
        {
            var data = Parse(e.Data);
            var type = Str(data["type"]);
            Assert.Equal(type, e.Event);
            switch (type)
            {
                case "message_start":
                    sequence.Append('S');
                    start = data["message"]!.AsObject();
                    Assert.Equal(("message", "assistant"), (Str(start["type"]), Str(start["role"])));
                    break;
                case "ping":
                    sequence.Append('P');
                    break;
                case "content_block_start":
                    sequence.Append('B');
                    Assert.Equal(-1, open);
                    Assert.Equal(blocks, Num(data["index"]));
                    open = blocks++;
                    StartBlock(data["content_block"]!.AsObject(), open.ToString(CultureInfo.InvariantCulture), content);
                    break;
                case "content_block_delta":
                    sequence.Append('D');
                    Assert.Equal(open, Num(data["index"]));
                    var delta = data["delta"]!;
                    switch (Str(delta["type"]))
                    {
                        case "text_delta":
                            content.Text(Str(delta["text"])!);
                            break;
                        case "thinking_delta":
                            content.Thinking(Str(delta["thinking"])!);
                            break;
                        case "signature_delta":
                            content.ThinkingSignature(Str(delta["signature"]));
                            break;
                        case "input_json_delta":
                            content.CallArguments(open.ToString(CultureInfo.InvariantCulture), Str(delta["partial_json"])!);
                            break;
                        default:
                            Assert.Fail("unexpected delta " + delta.ToJsonString());
                            break;
                    }
                    break;
                case "content_block_stop":
                    sequence.Append('E');
                    Assert.Equal(open, Num(data["index"]));
                    open = -1;
                    break;
                case "message_delta":
                    sequence.Append('M');
                    messageDelta = data;
                    break;
                case "message_stop":
                    sequence.Append('X');
                    break;
                default:
                    Assert.Fail("unexpected event " + type);
                    break;
            }
        }
        Assert.Matches(AnthropicSequence(), sequence.ToString());
        return new AnswerFacts(content.Build(), Finish(Str(messageDelta!["delta"]!["stop_reason"])),
            ReadUsage(messageDelta["usage"]!.AsObject(), start!["usage"]!.AsObject()), messageDelta["grounding_metadata"]);
    }

    [GeneratedRegex("^SP(BD*E)*MX$")]
    private static partial Regex AnthropicSequence();
}
