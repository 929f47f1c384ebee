using System.Globalization;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.CrossDialect.Wire;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>Gemini generateContent. Signatures are <c>thoughtSignature</c> on thought parts and on function calls.</summary>
internal sealed class GeminiSide : DialectSide
{
    public const string CallSignature = "EpUBCpIBAXLI2n-gemini-call/sig=";

    public const string SecondCallSignature = "EpUBCpIBAXLI2n-gemini-second-call/sig=";

    public override Dialect Dialect => Dialect.Gemini;

    public override string ThinkingSignature => "CiQBcsjafE7X-gemini-thought/sig+=";

    public override IReadOnlyList<string> Signatures => [ThinkingSignature, CallSignature, SecondCallSignature];

    private const string Tools = """
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
          "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}]
        """;

    public override string ClientRequest(RequestScenario scenario) => scenario switch
    {
        RequestScenario.ToolLoop => """
            {"systemInstruction": {"parts": [{"text": "You are terse."}]}, "contents": [
              {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
              {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"id": "call_paris", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "EpUBCpIBAXLI2n-gemini-call/sig="}]},
              {"role": "user", "parts": [{"functionResponse": {"id": "call_paris", "name": "get_weather", "response": {"result": "Sunny, 21°C"}}}]},
              {"role": "model", "parts": [
                {"text": "Comparing with Lyon."},
                {"functionCall": {"id": "call_lyon", "name": "get_weather", "args": {"city": "Lyon"}}, "thoughtSignature": "EpUBCpIBAXLI2n-gemini-second-call/sig="}]},
              {"role": "user", "parts": [{"functionResponse": {"id": "call_lyon", "name": "get_weather", "response": {"result": "Cloudy, 17°C"}}}]},
              {"role": "model", "parts": [{"text": "Sunny in Paris, cloudy in Lyon."}]},
              {"role": "user", "parts": [{"text": "And tomorrow?"}]}
            ],
            """ + Tools + "}",
        // Gemini clients may leave ids out: calls and results pair by name, in order.
        RequestScenario.ParallelToolCalls => """
            {"contents": [
              {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
              {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]},
              {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "Sunny, 21°C"}}},
                {"functionResponse": {"name": "get_weather", "response": {"result": "Rainy, 14°C"}}}]}
            ],
            """ + Tools + "}",
        RequestScenario.Image => """
            {"contents": [{"role": "user", "parts": [
              {"text": "What is in this picture?"},
              {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]}]}
            """,
        _ => """
            {"contents": [
              {"role": "user", "parts": [{"text": "What is 2+2?"}]},
              {"role": "model", "parts": [
                {"text": "Simple arithmetic.", "thought": true, "thoughtSignature": "CiQBcsjafE7X-gemini-thought/sig+="},
                {"text": "4"}]},
              {"role": "user", "parts": [{"text": "Times 3?"}]}
            ]}
            """,
    };

    public override IReadOnlyList<string>? ClientCallIds(RequestScenario scenario) => scenario == RequestScenario.ToolLoop ? ["call_paris", "call_lyon"] : null;

    public override JsonObject IdentityRequest(RequestScenario scenario)
    {
        var body = base.IdentityRequest(scenario);
        if (scenario != RequestScenario.ParallelToolCalls) return body;
        // Calls and results without ids get the stable ids they were paired by, and the unsigned call turn the sentinel.
        var contents = body["contents"]!;
        contents[1]!["parts"]![0]!["thoughtSignature"] = "skip_thought_signature_validator";
        for (var i = 0; i < 2; i++)
        {
            contents[1]!["parts"]![i]!["functionCall"]!["id"] = $"call_get_weather_{i + 1}";
            contents[2]!["parts"]![i]!["functionResponse"]!["id"] = $"call_get_weather_{i + 1}";
        }
        return body;
    }

    public override string AnswerRequest => """
        {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "generationConfig": {"thinkingConfig": {"includeThoughts": true}}}
        """;

    private const string Usage =
        """ "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 30, "totalTokenCount": 150, "cachedContentTokenCount": 40, "thoughtsTokenCount": 20}""";

    public override string UpstreamAnswer(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Body(
            """
            {"text": "I need both cities.", "thought": true},
            {"text": "Checking both."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "EpUBCpIBAXLI2n-gemini-call/sig="},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
            """, "STOP"),
        AnswerScenario.Thinking => Body(
            """
            {"text": "Let me think.", "thought": true, "thoughtSignature": "CiQBcsjafE7X-gemini-thought/sig+="},
            {"text": "The answer is 4."}
            """, "STOP"),
        AnswerScenario.Length => Body("""{"text": "The answer is"}""", "MAX_TOKENS"),
        _ => Body("""{"text": "Paris is sunny."}""", "STOP", """ "groundingMetadata": """ + Grounding.ReplaceLineEndings(" ") + ","),
    };

    private static string Body(string parts, string finishReason, string grounding = "") => $$"""
        {"candidates": [{"content": {"role": "model", "parts": [{{parts}}]}, "finishReason": "{{finishReason}}", {{grounding}} "index": 0}],
         {{Usage}}, "modelVersion": "gemini-2.5-pro", "responseId": "gemini-up", "createTime": "2025-01-01T00:00:00.123456Z"}
        """;

    public override string UpstreamStream(AnswerScenario scenario) => scenario switch
    {
        AnswerScenario.ToolCalls => Chunk("""{"text": "I need both cities.", "thought": true}""", topFields: StartUsage)
            + Chunk("""{"text": "Checking "}""")
            + Chunk("""{"text": "both."}""")
            + Chunk("""{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "EpUBCpIBAXLI2n-gemini-call/sig="}, {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}""")
            + Chunk("""{"text": ""}""", """ "finishReason": "STOP", """, Usage + ","),
        AnswerScenario.Thinking => Chunk("""{"text": "Let me ", "thought": true}""", topFields: StartUsage)
            + Chunk("""{"text": "think.", "thought": true, "thoughtSignature": "CiQBcsjafE7X-gemini-thought/sig+="}""")
            + Chunk("""{"text": "The answer is 4."}""", """ "finishReason": "STOP", """, Usage + ","),
        AnswerScenario.Length => Chunk("""{"text": "The answer"}""", topFields: StartUsage)
            + Chunk("""{"text": " is"}""", """ "finishReason": "MAX_TOKENS", """, Usage + ","),
        _ => Chunk("""{"text": "Paris "}""", topFields: StartUsage)
            + Chunk("""{"text": "is sunny."}""", """ "finishReason": "STOP", "groundingMetadata": """ + Grounding.ReplaceLineEndings(" ") + ",", Usage + ","),
    };

    /// <summary>Gemini reports the prompt's usage from the first chunk on.</summary>
    private const string StartUsage = """ "usageMetadata": {"promptTokenCount": 100, "totalTokenCount": 100, "cachedContentTokenCount": 40},""";

    /// <summary>One <c>alt=sse</c> chunk with one candidate.</summary>
    private static string Chunk(string parts, string candidateFields = "", string topFields = "") =>
        $$"""data: {"candidates": [{"content": {"role": "model", "parts": [{{parts}}]}, {{candidateFields}} "index": 0}], {{topFields}} "modelVersion": "gemini-2.5-pro", "responseId": "gemini-up"}""" + "\n\n";

    public override IReadOnlyList<string>? UpstreamCallIds => null;

    // ---- readers ----

    /// <summary>Also checks what Gemini enforces: roles user/model, and the responses to one model turn's calls in the next content, named like their calls.</summary>
    public override Facts ReadRequest(JsonObject body)
    {
        var head = new Facts();
        var conversation = new Facts();
        foreach (var part in Objects(body["systemInstruction"]?["parts"])) head.Add("system", Str(part["text"])!);
        var callNames = new Dictionary<string, string>();
        var pendingCalls = 0;
        foreach (var content in Objects(body["contents"]))
        {
            var role = Str(content["role"]);
            Assert.Contains(role, (string[])["user", "model"]);
            var responses = 0;
            var calls = 0;
            foreach (var part in Objects(content["parts"]))
            {
                var speaker = role == "model" ? "assistant" : "user";
                if (part["functionCall"] is JsonObject call)
                {
                    Assert.Equal("model", role);
                    calls++;
                    var id = Str(call["id"]) ?? "(no id)";
                    callNames[id] = Str(call["name"])!;
                    conversation.Call(speaker, id, Str(call["name"])!, Facts.Json(call["args"]), Str(part["thoughtSignature"]));
                }
                else if (part["functionResponse"] is JsonObject response)
                {
                    Assert.Equal("user", role);
                    responses++;
                    var id = Str(response["id"]) ?? "(no id)";
                    Assert.Equal(callNames.GetValueOrDefault(id), Str(response["name"]));
                    var result = response["response"]!.AsObject();
                    conversation.Result(id, result.Count == 1 && Str(result["result"]) is { } text ? text : result.ToJsonString());
                }
                else if (part["inlineData"] is JsonObject inline)
                {
                    conversation.Image(speaker, Str(inline["mimeType"]), Str(inline["data"])!);
                }
                else if (part["thought"] is JsonValue)
                {
                    conversation.Thinking(speaker, Str(part["text"]) ?? "", Str(part["thoughtSignature"]));
                }
                else
                {
                    Assert.True(part.Count == 1, "unexpected part " + part.ToJsonString());
                    conversation.Text(speaker, Str(part["text"])!);
                }
            }
            if (responses > 0) Assert.Equal(pendingCalls, responses);
            pendingCalls = calls;
        }
        foreach (var declaration in Objects(body["tools"]).SelectMany(t => Objects(t["functionDeclarations"])))
        {
            var schema = declaration["parametersJsonSchema"] ?? declaration["parameters"];
            head.Add("declare", $"{Str(declaration["name"])} {Str(declaration["description"])} {Facts.Json(schema)}");
        }
        return Facts.Join(head, conversation);
    }

    public override AnswerFacts ReadAnswer(JsonObject body)
    {
        var content = new AnswerBuilder();
        var candidate = Assert.Single(Objects(body["candidates"]));
        var calls = 0;
        foreach (var part in Objects(candidate["content"]?["parts"])) ReadPart(part, content, ref calls);
        return new AnswerFacts(content.Build(), Finish(Str(candidate["finishReason"]), calls), ReadUsage(body["usageMetadata"]), candidate["groundingMetadata"]);
    }

    private static void ReadPart(JsonObject part, AnswerBuilder content, ref int calls)
    {
        var signature = Str(part["thoughtSignature"]);
        if (part["functionCall"] is JsonObject call)
        {
            var key = (calls++).ToString(CultureInfo.InvariantCulture);
            content.StartCall(key, Str(call["id"])!, Str(call["name"])!, signature);
            content.CallArguments(key, Facts.Json(call["args"]));
        }
        else if (part["thought"] is JsonValue)
        {
            content.Thinking(Str(part["text"]) ?? "");
            content.ThinkingSignature(signature);
        }
        else
        {
            Assert.True(signature is null, "a signature on a non-thought part: " + part.ToJsonString());
            content.Text(Str(part["text"])!);
        }
    }

    private static string? Finish(string? reason, int calls) => reason switch
    {
        "STOP" => calls > 0 ? "tool_calls" : "stop",
        "MAX_TOKENS" => "length",
        _ => reason,
    };

    /// <summary>Gemini counts thoughts apart from candidates; the client adds them up.</summary>
    private static UsageFacts? ReadUsage(JsonNode? usage)
    {
        if (usage is null) return null;
        var thoughts = Num(usage["thoughtsTokenCount"]) ?? 0;
        return new UsageFacts(Num(usage["promptTokenCount"])!.Value, Num(usage["cachedContentTokenCount"]) ?? 0,
            Num(usage["candidatesTokenCount"])!.Value + thoughts, thoughts, Num(usage["totalTokenCount"]));
    }

    /// <summary>
    /// <c>data:</c> chunks without event lines, each one GenerateContentResponse with one candidate and the same id and
    /// model; the last chunk alone carries the finish reason (Gemini CLI retries a stream without one) and the usage.
    /// </summary>
    public override AnswerFacts ReadStream(string sse)
    {
        var events = StreamHarness.ParseSse(sse);
        Assert.All(events, e => Assert.Null(e.Event));
        var chunks = events.Select(e => Parse(e.Data)).ToList();
        Assert.Single(chunks.Select(c => (Str(c["responseId"]), Str(c["modelVersion"]))).Distinct());
        var content = new AnswerBuilder();
        var calls = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var last = i == chunks.Count - 1;
            var candidate = Assert.Single(Objects(chunks[i]["candidates"]));
            Assert.Equal(0, Num(candidate["index"]));
            Assert.Equal(last, candidate["finishReason"] is not null);
            Assert.Equal(last, chunks[i]["usageMetadata"] is not null);
            if (!last) Assert.Null(candidate["groundingMetadata"]);
            foreach (var part in Objects(candidate["content"]?["parts"])) ReadPart(part, content, ref calls);
        }
        var final = chunks[^1];
        var finalCandidate = final["candidates"]![0]!;
        return new AnswerFacts(content.Build(), Finish(Str(finalCandidate["finishReason"]), calls), ReadUsage(final["usageMetadata"]),
            finalCandidate["groundingMetadata"]);
    }
}
