using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.CrossDialect.Wire;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>OpenAI Chat Completions. Signed reasoning travels as LiteLLM-style <c>thinking_blocks</c>.</summary>
internal sealed partial class OpenAIChatSide : DialectSide
{
    public override Dialect Dialect => Dialect.OpenAIChat;

    public override string ThinkingSignature => "chat-thinking-sig";

    private const string Tools = """
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        """;

    public override string ClientRequest(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => """
            {"model": "client-model", "messages": [
              {"role": "system", "content": "You are terse."},
              {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
              {"role": "tool", "tool_call_id": "call_paris", "content": "Sunny, 21°C"},
              {"role": "assistant", "content": "Comparing with Lyon.", "tool_calls": [
                {"id": "call_lyon", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}]},
              {"role": "tool", "tool_call_id": "call_lyon", "content": "Cloudy, 17°C"},
              {"role": "assistant", "content": "Sunny in Paris, cloudy in Lyon."},
              {"role": "user", "content": "And tomorrow?"}
            ],
            """ + Tools + "}",
        RequestScenario.ParallelToolCalls => """
            {"model": "client-model", "messages": [
              {"role": "user", "content": "Weather in Paris and Rome?"},
              {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_rome", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
              {"role": "tool", "tool_call_id": "call_paris", "content": "Sunny, 21°C"},
              {"role": "tool", "tool_call_id": "call_rome", "content": "Rainy, 14°C"}
            ],
            """ + Tools + "}",
        RequestScenario.Image => """
            {"model": "client-model", "messages": [{"role": "user", "content": [
              {"type": "text", "text": "What is in this picture?"},
              {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]}
            """,
        _ => """
            {"model": "client-model", "messages": [
              {"role": "user", "content": "What is 2+2?"},
              {"role": "assistant", "content": "4", "reasoning_content": "Simple arithmetic.",
               "thinking_blocks": [{"type": "thinking", "thinking": "Simple arithmetic.", "signature": "chat-thinking-sig"}]},
              {"role": "user", "content": "Times 3?"}
            ]}
            """,
    };

    public override IReadOnlyList<string>? ClientCallIds(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => ["call_paris", "call_lyon"],
        RequestScenario.ParallelToolCalls => ["call_paris", "call_rome"],
        _ => null,
    };

    public override string AnswerRequest => """
        {"model": "client-model", "messages": [{"role": "user", "content": "Hi"}], "stream": true, "stream_options": {"include_usage": true}}
        """;

    private const string Usage =
        """ "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150, "prompt_tokens_details": {"cached_tokens": 40}, "completion_tokens_details": {"reasoning_tokens": 20}}""";

    public override string UpstreamAnswer(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => """
            {"id": "chatcmpl-up", "object": "chat.completion", "created": 1735689600, "model": "gpt-upstream",
             "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Checking both.",
               "reasoning_content": "I need both cities.",
               "thinking_blocks": [{"type": "thinking", "thinking": "I need both cities.", "signature": "chat-thinking-sig"}],
               "tool_calls": [
               {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
               {"id": "call_rome", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]}}],
            """ + Usage + "}",
        AnswerScenario.Thinking => """
            {"id": "chatcmpl-up", "object": "chat.completion", "created": 1735689600, "model": "gpt-upstream",
             "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "The answer is 4.",
               "reasoning_content": "Let me think.",
               "thinking_blocks": [{"type": "thinking", "thinking": "Let me think.", "signature": "chat-thinking-sig"}]}}],
            """ + Usage + "}",
        AnswerScenario.Length => """
            {"id": "chatcmpl-up", "object": "chat.completion", "created": 1735689600, "model": "gpt-upstream",
             "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "The answer is"}}],
            """ + Usage + "}",
        _ => """
            {"id": "chatcmpl-up", "object": "chat.completion", "created": 1735689600, "model": "gpt-upstream",
             "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris is sunny."}, "grounding_metadata":
            """ + Grounding + "}], " + Usage + "}",
    };

    public override string UpstreamStream(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Chunks(
            """{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}""",
            """{"index": 0, "delta": {"reasoning_content": "I need both cities."}, "finish_reason": null}""",
            """{"index": 0, "delta": {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "chat-thinking-sig"}]}, "finish_reason": null}""",
            """{"index": 0, "delta": {"content": "Checking "}, "finish_reason": null}""",
            """{"index": 0, "delta": {"content": "both."}, "finish_reason": null}""",
            """{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": null}""",
            """{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}, "finish_reason": null}""",
            // The second call starts before the first one's arguments are complete; fragments interleave by index.
            """{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_rome", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":"}}]}, "finish_reason": null}""",
            """{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}, {"index": 1, "function": {"arguments": "\"Rome\"}"}}]}, "finish_reason": null}""",
            """{"index": 0, "delta": {}, "finish_reason": "tool_calls"}"""),
        AnswerScenario.Thinking => Chunks(
            """{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}""",
            """{"index": 0, "delta": {"reasoning_content": "Let me "}, "finish_reason": null}""",
            """{"index": 0, "delta": {"reasoning_content": "think."}, "finish_reason": null}""",
            """{"index": 0, "delta": {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "chat-thinking-sig"}]}, "finish_reason": null}""",
            """{"index": 0, "delta": {"content": "The answer is 4."}, "finish_reason": null}""",
            """{"index": 0, "delta": {}, "finish_reason": "stop"}"""),
        AnswerScenario.Length => Chunks(
            """{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}""",
            """{"index": 0, "delta": {"content": "The answer is"}, "finish_reason": null}""",
            """{"index": 0, "delta": {}, "finish_reason": "length"}"""),
        _ => Chunks(
            """{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}""",
            """{"index": 0, "delta": {"content": "Paris is sunny."}, "finish_reason": null}""",
            """{"index": 0, "delta": {}, "finish_reason": "stop", "grounding_metadata": """ + Grounding.ReplaceLineEndings(" ") + "}"),
    };

    /// <summary>One chunk per choice object, then the usage chunk and [DONE], as OpenAI streams with include_usage.</summary>
    private static string Chunks(params string[] choices)
    {
        const string Header = """ "id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1735689600, "model": "gpt-upstream", """;
        var chunks = choices.Select(choice => $$"""data: {{{Header}}"choices": [{{choice}}]}""" + "\n\n");
        return string.Concat(chunks) + $$"""data: {{{Header}}"choices": [], {{Usage}}}""" + "\n\ndata: [DONE]\n\n";
    }

    public override IReadOnlyList<string>? UpstreamCallIds => ["call_paris", "call_rome"];

    // ---- readers ----

    public override Facts ReadRequest(JsonObject body)
    {
        var head = new Facts();
        var conversation = new Facts();
        foreach (var message in Objects(body["messages"]))
        {
            var role = Str(message["role"]);
            switch (role)
            {
                case "system" or "developer":
                    head.Add("system", ContentText(message["content"]));
                    break;
                case "user":
                    ReadUserContent(message["content"], conversation);
                    break;
                case "assistant":
                    ReadReasoning(message, conversation);
                    if (message["content"] is { } content && ContentText(content) is { Length: > 0 } text) conversation.Text("assistant", text);
                    foreach (var call in Objects(message["tool_calls"]))
                    {
                        Assert.Equal("function", Str(call["type"]));
                        conversation.Call("assistant", Str(call["id"])!, Str(call["function"]!["name"])!, Str(call["function"]!["arguments"])!);
                    }
                    break;
                case "tool":
                    conversation.Result(Str(message["tool_call_id"])!, ContentText(message["content"]));
                    break;
                default:
                    Assert.Fail($"unexpected role {role}");
                    break;
            }
        }
        foreach (var tool in Objects(body["tools"]))
        {
            var function = tool["function"]!;
            head.Add("declare", $"{Str(function["name"])} {Str(function["description"])} {Facts.Json(function["parameters"])}");
        }
        return Facts.Join(head, conversation);
    }

    private static void ReadUserContent(JsonNode? content, Facts facts)
    {
        if (Str(content) is { } text)
        {
            facts.Text("user", text);
            return;
        }
        foreach (var part in Objects(content))
        {
            switch (Str(part["type"]))
            {
                case "text":
                    facts.Text("user", Str(part["text"])!);
                    break;
                case "image_url":
                    var (mediaType, data) = DataUrl(Str(part["image_url"]!["url"])!);
                    facts.Image("user", mediaType, data);
                    break;
                default:
                    Assert.Fail("unexpected content part " + part.ToJsonString());
                    break;
            }
        }
    }

    /// <summary>thinking_blocks (with signatures) when present, else the plain reasoning text.</summary>
    private static void ReadReasoning(JsonObject message, Facts facts)
    {
        if (message["thinking_blocks"] is JsonArray blocks)
        {
            foreach (var block in blocks.OfType<JsonObject>()) facts.Thinking("assistant", Str(block["thinking"]) ?? "", Str(block["signature"]));
            return;
        }
        if (Str(message["reasoning_content"]) is { Length: > 0 } reasoning) facts.Thinking("assistant", reasoning, null);
    }

    private static string ContentText(JsonNode? content) =>
        Str(content) ?? string.Concat(Objects(content).Select(p => Str(p["text"])));

    public override AnswerFacts ReadAnswer(JsonObject body)
    {
        Assert.Equal("chat.completion", Str(body["object"]));
        var choice = Assert.Single(Objects(body["choices"]));
        var message = choice["message"]!.AsObject();
        Assert.Equal("assistant", Str(message["role"]));
        var content = new AnswerBuilder();
        if (message["thinking_blocks"] is JsonArray blocks)
        {
            foreach (var block in blocks.OfType<JsonObject>())
            {
                content.Thinking(Str(block["thinking"]) ?? "");
                content.ThinkingSignature(Str(block["signature"]));
            }
        }
        else
        {
            content.Thinking(Str(message["reasoning_content"]) ?? "");
        }
        content.Text(Str(message["content"]) ?? "");
        foreach (var call in Objects(message["tool_calls"]))
        {
            var id = Str(call["id"])!;
            content.StartCall(id, id, Str(call["function"]!["name"])!);
            content.CallArguments(id, Str(call["function"]!["arguments"])!);
        }
        return new AnswerFacts(content.Build(), Str(choice["finish_reason"]), ReadUsage(body["usage"]), choice["grounding_metadata"]);
    }

    private static UsageFacts? ReadUsage(JsonNode? usage) => usage is null ? null : new UsageFacts(
        Num(usage["prompt_tokens"])!.Value,
        Num(usage["prompt_tokens_details"]?["cached_tokens"]) ?? 0,
        Num(usage["completion_tokens"])!.Value,
        Num(usage["completion_tokens_details"]?["reasoning_tokens"]) ?? 0,
        Num(usage["total_tokens"]));

    /// <summary>
    /// role chunk, content chunks, one chunk with the finish reason, the usage chunk (the answer request asks for it),
    /// then <c>data: [DONE]</c>; no <c>event:</c> lines; every chunk with the same id, created and model.
    /// </summary>
    public override AnswerFacts ReadStream(string sse)
    {
        var events = StreamHarness.ParseSse(sse);
        Assert.All(events, e => Assert.Null(e.Event));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => Parse(e.Data)).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", Str(c["object"])));
        Assert.Single(chunks.Select(c => (Str(c["id"]), Num(c["created"]), Str(c["model"]))).Distinct());

        var content = new AnswerBuilder();
        var sequence = "";
        string? finish = null;
        JsonNode? grounding = null;
        UsageFacts? usage = null;
        foreach (var chunk in chunks)
        {
            var choices = chunk["choices"]!.AsArray();
            if (choices.Count == 0)
            {
                sequence += "U";
                usage = ReadUsage(chunk["usage"]);
                continue;
            }
            var choice = Assert.Single(choices)!.AsObject();
            Assert.Equal(0, Num(choice["index"]));
            var delta = choice["delta"]!.AsObject();
            if (Str(choice["finish_reason"]) is { } reason)
            {
                sequence += "F";
                finish = reason;
                grounding = choice["grounding_metadata"];
                Assert.Empty(delta);
                continue;
            }
            sequence += delta.ContainsKey("role") ? "R" : "C";
            content.Thinking(Str(delta["reasoning_content"]) ?? "");
            foreach (var block in Objects(delta["thinking_blocks"])) content.ThinkingSignature(Str(block["signature"]));
            content.Text(Str(delta["content"]) ?? "");
            foreach (var call in Objects(delta["tool_calls"]))
            {
                var key = Num(call["index"])!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (Str(call["id"]) is { } id) content.StartCall(key, id, Str(call["function"]!["name"])!);
                content.CallArguments(key, Str(call["function"]!["arguments"]) ?? "");
            }
        }
        Assert.Matches(ChatSequence(), sequence);
        return new AnswerFacts(content.Build(), finish, usage, grounding);
    }

    [GeneratedRegex("^RC*FU$")]
    private static partial Regex ChatSequence();
}
