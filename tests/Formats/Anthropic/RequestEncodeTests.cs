using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class RequestEncodeTests
{
    private static readonly AnthropicCodec Codec = AnthropicCodec.Instance;

    private static ChatRequest Simple(params Message[] messages) => new() { Model = "client-model", Messages = [.. messages] };

    [Fact]
    public void ChatStyleRequest_GroupsToolResultsMergesTurnsAndMapsTools()
    {
        var request = new ChatRequest
        {
            Model = "gpt-style",
            System = [new TextPart("sys one"), new ImagePart { Url = "https://x/y.png" }, new TextPart("sys two")],
            Messages =
            [
                new Message(Role.User, new TextPart("Weather in Paris and Rome?")),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "unsigned thoughts" },
                    new TextPart(""),
                    new TextPart("Let me check."),
                    new ToolCallPart { Id = "call_1", Name = "get_weather", Arguments = """{"city":"Paris"}""" },
                    new ToolCallPart { Id = "call_2", Name = "get_weather", Arguments = "not json" }),
                new Message(Role.User, new TextPart("Use metric.")),
                new Message(Role.Tool, new ToolResultPart { ToolCallId = "call_2", Content = [new TextPart("21C")] }),
                new Message(Role.Tool, new ToolResultPart { ToolCallId = "call_1", Content = [new TextPart("18C")], IsError = true }),
                new Message(Role.Assistant, new TextPart("Paris 18C, Rome 21C.")),
                new Message(Role.User, new TextPart("Thanks")),
                new Message(Role.User, new ImagePart { Url = "data:image/png;base64,iVBORw0KGgo=" }),
            ],
            Tools =
            [
                new ToolDefinition { Name = "get_weather", Description = "Weather", Parameters = JsonNode.Parse("""{"properties":{"city":{"type":"string"}}}""") },
                new ToolDefinition { Name = "ping" },
                new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search", Config = new JsonObject() },
                new ToolDefinition { Kind = ToolKind.CodeExecution, Name = "code_execution", Config = new JsonObject() },
                new ToolDefinition { Kind = ToolKind.Native, NativeDialect = Dialect.OpenAIResponses, Name = "web_search", Config = JsonNode.Parse("""{"type":"web_search"}""") },
            ],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required },
            ParallelToolCalls = false,
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject },
            Stream = true,
            User = "u1",
        };
        request.Sampling.Temperature = 0.7;
        request.Sampling.TopP = 0.9;
        request.Sampling.TopK = 5;
        request.Sampling.Seed = 7;
        request.Sampling.StopSequences = ["###"];
        request.Extensions["openai.logprobs"] = true;

        var body = Codec.EncodeRequest(request, "claude-sonnet-4-5");

        JsonAssert.Equal("""
            {
              "model": "claude-sonnet-4-5",
              "max_tokens": 32000,
              "system": [{"type":"text","text":"sys one"},{"type":"text","text":"sys two"}],
              "messages": [
                {"role":"user","content":"Weather in Paris and Rome?"},
                {"role":"assistant","content":[
                  {"type":"text","text":"Let me check."},
                  {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},
                  {"type":"tool_use","id":"call_2","name":"get_weather","input":{}}
                ]},
                {"role":"user","content":[
                  {"type":"tool_result","tool_use_id":"call_2","content":"21C"},
                  {"type":"tool_result","tool_use_id":"call_1","content":"18C","is_error":true},
                  {"type":"text","text":"Use metric."}
                ]},
                {"role":"assistant","content":"Paris 18C, Rome 21C."},
                {"role":"user","content":[
                  {"type":"text","text":"Thanks"},
                  {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}
                ]}
              ],
              "tools": [
                {"name":"get_weather","description":"Weather","input_schema":{"properties":{"city":{"type":"string"}},"type":"object"}},
                {"name":"ping","input_schema":{"type":"object","properties":{}}},
                {"type":"web_search_20250305","name":"web_search"}
              ],
              "tool_choice": {"type":"any","disable_parallel_tool_use":true},
              "temperature": 0.7,
              "top_p": 0.9,
              "top_k": 5,
              "stop_sequences": ["###"],
              "metadata": {"user_id":"u1"},
              "stream": true
            }
            """, body);
    }

    [Theory]
    [InlineData("medium", null, null, """{"type":"enabled","budget_tokens":8192}""", 32000, null)]
    [InlineData("minimal", null, null, """{"type":"enabled","budget_tokens":1024}""", 32000, null)]
    [InlineData("xhigh", null, 16000, """{"type":"enabled","budget_tokens":15999}""", 16000, null)]
    [InlineData(null, 40000, null, """{"type":"enabled","budget_tokens":40000}""", 44096, null)]
    [InlineData("none", null, null, """{"type":"disabled"}""", 32000, null)]
    [InlineData(null, 0, 2000, """{"type":"disabled"}""", 2000, null)]
    [InlineData("auto", null, null, """{"type":"adaptive"}""", 32000, null)]
    [InlineData(null, -1, null, """{"type":"adaptive"}""", 32000, null)]
    [InlineData("high", -1, 64000, """{"type":"adaptive"}""", 64000, """{"effort":"high"}""")]
    [InlineData("high", null, 1000, null, 1000, null)]
    [InlineData("bogus", null, null, null, 32000, null)]
    public void Reasoning_MapsToThinkingAndMaxTokens(string? effort, int? budget, int? maxTokens, string? thinking, int expectedMax, string? outputConfig)
    {
        var request = Simple(new Message(Role.User, new TextPart("hi")));
        request.Reasoning = new ReasoningConfig { Effort = effort, BudgetTokens = budget };
        request.Sampling.MaxOutputTokens = maxTokens;

        var body = Codec.EncodeRequest(request, "claude");

        JsonAssert.Equal(thinking is null ? null : JsonNode.Parse(thinking), body["thinking"]);
        Assert.Equal(expectedMax, body["max_tokens"]!.GetValue<int>());
        JsonAssert.Equal(outputConfig is null ? null : JsonNode.Parse(outputConfig), body["output_config"]);
    }

    [Fact]
    public void Thinking_DropsSamplingAnthropicRejectsWithIt()
    {
        var request = Simple(new Message(Role.User, new TextPart("hi")));
        request.Reasoning = new ReasoningConfig { Effort = "low" };
        request.Sampling.Temperature = 0.2;
        request.Sampling.TopK = 10;
        request.Sampling.TopP = 0.96;

        var body = Codec.EncodeRequest(request, "claude");

        Assert.NotNull(body["thinking"]);
        Assert.False(body.ContainsKey("temperature"));
        Assert.False(body.ContainsKey("top_k"));
        Assert.Equal(0.96, body["top_p"]!.GetValue<double>());
    }

    [Fact]
    public void Thinking_IsDroppedWhenToolUseIsForced()
    {
        var request = Simple(new Message(Role.User, new TextPart("hi")));
        request.Tools = [new ToolDefinition { Name = "f" }];
        request.ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, Name = "f" };
        request.Reasoning = new ReasoningConfig { Effort = "high" };
        request.Sampling.Temperature = 0.3;

        var body = Codec.EncodeRequest(request, "claude");

        Assert.False(body.ContainsKey("thinking"));
        JsonAssert.Equal("""{"type":"tool","name":"f"}""", body["tool_choice"]);
        Assert.Equal(0.3, body["temperature"]!.GetValue<double>());
    }

    [Fact]
    public void Thinking_IsDroppedWhenTheOpenToolTurnHasNoSignedThinking()
    {
        var request = ToolTurn(new ReasoningPart { Text = "gemini thought", Signature = "gem-sig", SignatureDialect = Dialect.Gemini });
        request.Reasoning = new ReasoningConfig { BudgetTokens = 4096 };

        var body = Codec.EncodeRequest(request, "claude");

        Assert.False(body.ContainsKey("thinking"));
        Assert.Equal("tool_use", body["messages"]![1]!["content"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Thinking_IsDroppedForAPrefilledAssistantTurn_ButDisabledThinkingStays()
    {
        var prefill = Simple(new Message(Role.User, new TextPart("JSON please")), new Message(Role.Assistant, new TextPart("{")));
        prefill.Reasoning = new ReasoningConfig { Effort = "medium" };
        var disabled = Simple(new Message(Role.User, new TextPart("JSON please")), new Message(Role.Assistant, new TextPart("{")));
        disabled.Reasoning = new ReasoningConfig { Effort = "none" };

        Assert.False(Codec.EncodeRequest(prefill, "claude").ContainsKey("thinking"));
        JsonAssert.Equal("""{"type":"disabled"}""", Codec.EncodeRequest(disabled, "claude")["thinking"]);
    }

    [Fact]
    public void SignedThinking_IsKeptByteExactAndKeepsThinkingOn()
    {
        var request = ToolTurn(new ReasoningPart { Text = "plan", Signature = RequestDecodeTests.Signature, SignatureDialect = Dialect.Anthropic });
        request.Reasoning = new ReasoningConfig { BudgetTokens = 4096 };

        var body = Codec.EncodeRequest(request, "claude");

        JsonAssert.Equal("""{"type":"enabled","budget_tokens":4096}""", body["thinking"]);
        JsonAssert.Equal($$"""{"type":"thinking","thinking":"plan","signature":"{{RequestDecodeTests.Signature}}"}""", body["messages"]![1]!["content"]![0]);
        Assert.Contains("\"signature\":\"" + RequestDecodeTests.Signature + "\"", JsonText.Serialize(body));
    }

    [Fact]
    public void RedactedThinking_IsKept()
    {
        var request = Simple(
            new Message(Role.User, new TextPart("hi")),
            new Message(Role.Assistant, new ReasoningPart { RedactedData = "ENCRYPTED" }, new TextPart("hello")));

        var body = Codec.EncodeRequest(request, "claude");

        JsonAssert.Equal("""[{"type":"redacted_thinking","data":"ENCRYPTED"},{"type":"text","text":"hello"}]""", body["messages"]![1]!["content"]);
    }

    [Fact]
    public void JsonSchemaResponseFormat_GoesToOutputConfigFormat()
    {
        var request = Simple(new Message(Role.User, new TextPart("extract")));
        request.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Name = "x", Schema = JsonNode.Parse("""{"type":"object","properties":{"a":{"type":"string"}}}""") };

        var body = Codec.EncodeRequest(request, "claude");

        JsonAssert.Equal("""{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}""", body["output_config"]);
    }

    [Fact]
    public void ParallelToolCallsTrue_WithChoice_SetsDisableFalse_AndToolChoiceNeedsTools()
    {
        var withTools = Simple(new Message(Role.User, new TextPart("hi")));
        withTools.Tools = [new ToolDefinition { Name = "f" }];
        withTools.ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Auto };
        withTools.ParallelToolCalls = true;
        var withoutTools = Simple(new Message(Role.User, new TextPart("hi")));
        withoutTools.ToolChoice = new ToolChoice { Mode = ToolChoiceMode.None };

        JsonAssert.Equal("""{"type":"auto","disable_parallel_tool_use":false}""", Codec.EncodeRequest(withTools, "c")["tool_choice"]);
        Assert.False(Codec.EncodeRequest(withoutTools, "c").ContainsKey("tool_choice"));
    }

    [Fact]
    public void DocumentsAndToolResultImages_Encode()
    {
        var request = Simple(
            new Message(Role.User,
                new DocumentPart { MediaType = "application/pdf", Data = "JVBERi0=", Title = "Spec" },
                new DocumentPart { Text = "plain" },
                new DocumentPart { Url = "https://example.com/a.pdf" }),
            new Message(Role.Assistant, new ToolCallPart { Id = "t1", Name = "shot", Arguments = "{}" }),
            new Message(Role.Tool, new ToolResultPart { ToolCallId = "t1", Content = [new TextPart("see"), new ImagePart { MediaType = "image/png", Data = "AAA=" }] }));

        var body = Codec.EncodeRequest(request, "claude");

        JsonAssert.Equal("""
            [
              {"role":"user","content":[
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"Spec"},
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain"}},
                {"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}
              ]},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"shot","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[
                {"type":"text","text":"see"},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA="}}
              ]}]}
            ]
            """, body["messages"]);
    }

    private static ChatRequest ToolTurn(ReasoningPart reasoning) => Simple(
        new Message(Role.User, new TextPart("weather?")),
        new Message(Role.Assistant, reasoning, new ToolCallPart { Id = "toolu_1", Name = "get_weather", Arguments = """{"city":"Oslo"}""" }),
        new Message(Role.Tool, new ToolResultPart { ToolCallId = "toolu_1", Content = [new TextPart("-3C")] }));
}
