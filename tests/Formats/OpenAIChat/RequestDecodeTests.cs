using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class RequestDecodeTests
{
    private static ChatRequest Decode(string json) => OpenAIChatCodec.Instance.DecodeRequest(Parse(json));

    [Fact]
    public void MultiTurnConversationHoistsSystemAndDeveloperMessagesInOrder()
    {
        var request = Decode("""
            {"model":"gpt-4.1","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."},{"type":"text","text":"No emojis."}]},
              {"role":"user","name":"ana","content":"Hi"},
              {"role":"assistant","content":"Bonjour."},
              {"role":"user","content":[{"type":"text","text":"Weather?"}]}
            ]}
            """);

        Assert.Equal("gpt-4.1", request.Model);
        Assert.Equal(["You are terse.", "Answer in French.", "No emojis."], request.System.Cast<TextPart>().Select(p => p.Text));
        Assert.Equal(0, request.System[0].Extensions!["openai.system_message"]!.GetValue<int>());
        Assert.False(request.System[0].Extensions!.ContainsKey("openai.role"));
        Assert.Equal("developer", request.System[1].Extensions!["openai.role"]!.GetValue<string>());
        Assert.Equal(1, request.System[1].Extensions!["openai.system_message"]!.GetValue<int>());
        Assert.Equal(1, request.System[2].Extensions!["openai.system_message"]!.GetValue<int>());

        Assert.Equal([Role.User, Role.Assistant, Role.User], request.Messages.Select(m => m.Role));
        Assert.Equal("ana", request.Messages[0].Name);
        Assert.Equal("Hi", Assert.IsType<TextPart>(Assert.Single(request.Messages[0].Parts)).Text);
        Assert.Equal("Bonjour.", Assert.IsType<TextPart>(Assert.Single(request.Messages[1].Parts)).Text);
        Assert.Equal("Weather?", Assert.IsType<TextPart>(Assert.Single(request.Messages[2].Parts)).Text);
        Assert.False(request.Stream);
        Assert.Empty(request.Extensions);
    }

    [Fact]
    public void ImagesAudioAndFilesBecomeCanonicalParts()
    {
        var request = Decode("""
            {"model":"gpt-4o","messages":[{"role":"user","content":[
              {"type":"text","text":"What is in these?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
              {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
              {"type":"file","file":{"filename":"report.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
              {"type":"file","file":{"file_id":"file-abc123"}}
            ]}]}
            """);

        var parts = request.Messages[0].Parts;
        Assert.Equal(6, parts.Count);
        var inline = Assert.IsType<ImagePart>(parts[1]);
        Assert.Equal("image/png", inline.MediaType);
        Assert.Equal("iVBORw0KGgo=", inline.Data);
        Assert.Equal("high", inline.Detail);
        Assert.Null(inline.Url);
        var remote = Assert.IsType<ImagePart>(parts[2]);
        Assert.Equal("https://example.com/cat.jpg", remote.Url);
        Assert.Null(remote.Data);
        var audio = Assert.IsType<DocumentPart>(parts[3]);
        Assert.Equal("audio/wav", audio.MediaType);
        Assert.Equal("UklGRg==", audio.Data);
        var pdf = Assert.IsType<DocumentPart>(parts[4]);
        Assert.Equal(("application/pdf", "JVBERi0x", "report.pdf"), (pdf.MediaType, pdf.Data, pdf.Title));
        var byId = Assert.IsType<DocumentPart>(parts[5]);
        Assert.Null(byId.Data);
        Assert.Equal("file-abc123", byId.Extensions!["openai.file_id"]!.GetValue<string>());
    }

    [Fact]
    public void ToolsWithSchemasServerToolsAndToolChoice()
    {
        var request = Decode("""
            {"model":"gemini-2.5-pro","messages":[{"role":"user","content":"Weather in Paris?"}],
             "tools":[
               {"type":"function","function":{"name":"get_weather","description":"Current weather","strict":true,
                 "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}},
               {"google_search":{}},
               {"type":"code_execution","code_execution":{}},
               {"type":"url_context"},
               {"type":"custom","custom":{"name":"grammar_tool"}}
             ],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},
             "parallel_tool_calls":false}
            """);

        Assert.Equal(5, request.Tools.Count);
        var function = request.Tools[0];
        Assert.Equal((ToolKind.Function, "get_weather", "Current weather", true), (function.Kind, function.Name, function.Description, function.Strict));
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""", function.Parameters);
        Assert.Equal(ToolKind.GoogleSearch, request.Tools[1].Kind);
        JsonAssert.Equal("{}", request.Tools[1].Config);
        Assert.Equal(ToolKind.CodeExecution, request.Tools[2].Kind);
        Assert.Equal(ToolKind.UrlContext, request.Tools[3].Kind);
        JsonAssert.Equal("{}", request.Tools[3].Config);
        var custom = request.Tools[4];
        Assert.Equal((ToolKind.Native, Dialect.OpenAIChat), (custom.Kind, custom.NativeDialect));
        JsonAssert.Equal("""{"type":"custom","custom":{"name":"grammar_tool"}}""", custom.Config);

        Assert.Equal(ToolChoiceMode.Function, request.ToolChoice!.Mode);
        Assert.Equal("get_weather", request.ToolChoice.Name);
        Assert.False(request.ParallelToolCalls);
    }

    [Theory]
    [InlineData("\"auto\"", ToolChoiceMode.Auto)]
    [InlineData("\"none\"", ToolChoiceMode.None)]
    [InlineData("\"required\"", ToolChoiceMode.Required)]
    public void ToolChoiceStrings(string choice, ToolChoiceMode mode)
    {
        var request = Decode($$"""{"model":"m","messages":[],"tool_choice":{{choice}}}""");
        Assert.Equal(mode, request.ToolChoice!.Mode);
    }

    [Fact]
    public void AllowedToolsChoiceTravelsAsExtension()
    {
        var request = Decode("""{"model":"m","messages":[],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}}""");
        Assert.Null(request.ToolChoice);
        JsonAssert.Equal("""{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}""", request.Extensions["openai.tool_choice"]);
    }

    [Fact]
    public void TwoTurnToolLoopWithParallelCallsPairsResultsAndNamesThem()
    {
        var request = Decode("""
            {"model":"gpt-4.1","messages":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_paris","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_rome","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
              {"role":"tool","tool_call_id":"call_paris","content":"18C sunny"},
              {"role":"tool","tool_call_id":"call_rome","content":[{"type":"text","text":"24C"},{"type":"text","text":"clear"}]},
              {"role":"assistant","content":"Paris 18C, Rome 24C."},
              {"role":"user","content":"Thanks"}
            ]}
            """);

        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant, Role.User], request.Messages.Select(m => m.Role));
        var calls = request.Messages[1].Parts.Cast<ToolCallPart>().ToList();
        Assert.Equal(2, request.Messages[1].Parts.Count);
        Assert.Equal(("call_paris", "get_weather", """{"city":"Paris"}"""), (calls[0].Id, calls[0].Name, calls[0].Arguments));
        Assert.Equal(("call_rome", """{"city":"Rome"}"""), (calls[1].Id, calls[1].Arguments));

        var results = request.Messages[2].Parts.Cast<ToolResultPart>().ToList();
        Assert.Equal(2, request.Messages[2].Parts.Count);
        Assert.Equal(("call_paris", "get_weather"), (results[0].ToolCallId, results[0].Name));
        Assert.Equal("18C sunny", Assert.IsType<TextPart>(Assert.Single(results[0].Content)).Text);
        Assert.Equal("call_rome", results[1].ToolCallId);
        Assert.Equal(["24C", "clear"], results[1].Content.Cast<TextPart>().Select(t => t.Text));
    }

    [Fact]
    public void ReasoningWithSignatureIsKeptByteExact()
    {
        const string signature = "EqQBCkgIARABGAIiQL+/z9x+YW5n5L2g5aW9/8=\u00e9\u2603";
        var body = new JsonObject
        {
            ["model"] = "claude-sonnet-4-5",
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "2+2?" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = "4",
                    ["reasoning_content"] = "Simple sum.",
                    ["thinking_blocks"] = new JsonArray(new JsonObject { ["type"] = "thinking", ["thinking"] = "Simple sum.", ["signature"] = signature }),
                },
                new JsonObject { ["role"] = "assistant", ["content"] = "ok", ["reasoning_content"] = "Unsigned thought." }),
        };

        var request = OpenAIChatCodec.Instance.DecodeRequest(JsonNode.Parse(body.ToJsonString())!.AsObject());

        var signed = Assert.IsType<ReasoningPart>(request.Messages[1].Parts[0]);
        Assert.Equal("Simple sum.", signed.Text);
        Assert.Equal(signature, signed.Signature);
        Assert.Equal(Dialect.OpenAIChat, signed.SignatureDialect);
        Assert.Equal("4", Assert.IsType<TextPart>(request.Messages[1].Parts[1]).Text);
        var unsigned = Assert.IsType<ReasoningPart>(request.Messages[2].Parts[0]);
        Assert.Equal(("Unsigned thought.", null, null), (unsigned.Text, unsigned.Signature, unsigned.SignatureDialect));
    }

    [Fact]
    public void SamplingStopResponseFormatReasoningAndExtensions()
    {
        var request = Decode("""
            {"model":"o4-mini","messages":[{"role":"user","content":"JSON please"}],
             "temperature":0.2,"top_p":0.9,"top_k":40,"max_completion_tokens":2048,"max_tokens":100,"stop":"END","seed":42,
             "presence_penalty":0.5,"frequency_penalty":-0.25,"n":2,"reasoning_effort":"HIGH","user":"user-7",
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":{"type":"object","properties":{"a":{"type":"integer"}}}}},
             "stream":true,"stream_options":{"include_usage":true},
             "logprobs":true,"top_logprobs":3,"logit_bias":{"50256":-100},"metadata":{"run":"7"},"store":false,"service_tier":"flex",
             "modalities":["text"],"web_search_options":{"search_context_size":"low"}}
            """);

        var s = request.Sampling;
        Assert.Equal((0.2, 0.9, 40, 2048), (s.Temperature, s.TopP, s.TopK, s.MaxOutputTokens));
        Assert.Equal(["END"], s.StopSequences);
        Assert.Equal((42L, 0.5, -0.25, 2), (s.Seed, s.PresencePenalty, s.FrequencyPenalty, s.CandidateCount));
        Assert.Equal("high", request.Reasoning!.Effort);
        Assert.Equal("user-7", request.User);
        Assert.Equal((ResponseFormatKind.JsonSchema, "answer", true), (request.ResponseFormat!.Kind, request.ResponseFormat.Name, request.ResponseFormat.Strict));
        JsonAssert.Equal("""{"type":"object","properties":{"a":{"type":"integer"}}}""", request.ResponseFormat.Schema);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        JsonAssert.Equal("""
            {"openai.max_completion_tokens":2048,"openai.logprobs":true,"openai.top_logprobs":3,"openai.logit_bias":{"50256":-100},
             "openai.metadata":{"run":"7"},"openai.store":false,"openai.service_tier":"flex","openai.modalities":["text"],
             "openai.web_search_options":{"search_context_size":"low"}}
            """, request.Extensions);
    }

    [Fact]
    public void MaxTokensAloneAndJsonObjectFormat()
    {
        var request = Decode("""{"model":"m","messages":[],"max_tokens":300,"stop":["a","b"],"response_format":{"type":"json_object"}}""");
        Assert.Equal(300, request.Sampling.MaxOutputTokens);
        Assert.Equal(["a", "b"], request.Sampling.StopSequences);
        Assert.Equal(ResponseFormatKind.JsonObject, request.ResponseFormat!.Kind);
        Assert.Empty(request.Extensions);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "'messages' is required")]
    [InlineData("""{"model":"m","messages":{}}""", "'messages' must be an array")]
    [InlineData("""{"model":"m","messages":["hi"]}""", "'messages[0]' must be an object")]
    [InlineData("""{"model":"m","messages":[{"content":"hi"}]}""", "'messages[0].role' is required")]
    [InlineData("""{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}""", "deprecated")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":42}]}""", "'messages[0].content' must be a string or an array")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"text":"hi"}]}]}""", "'messages[0].content[0].type' is required")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}""", "'messages[0].content[0].image_url.url' is required")]
    [InlineData("""{"model":"m","messages":[{"role":"tool","content":"x"}]}""", "'messages[0].tool_call_id' is required")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}""", "'messages[0].tool_calls[0].id' is required")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}]}""", "'messages[0].tool_calls[0].function.name' is required")]
    [InlineData("""{"model":"m","messages":[],"tools":[{"type":"function"}]}""", "'tools[0].function' is required")]
    [InlineData("""{"model":"m","messages":[],"tools":["get_weather"]}""", "'tools[0]' must be an object")]
    [InlineData("""{"model":"m","messages":[],"temperature":"hot"}""", "'temperature' must be a number")]
    [InlineData("""{"model":"m","messages":[],"n":1.5}""", "'n' must be an integer")]
    [InlineData("""{"model":"m","messages":[],"stop":["a",1]}""", "'stop[1]' must be a string")]
    [InlineData("""{"model":"m","messages":[],"stream":"yes"}""", "'stream' must be a boolean")]
    [InlineData("""{"model":7,"messages":[]}""", "'model' must be a string")]
    public void BadInputThrowsRequestFormatException(string body, string expectedMessage)
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode(body));
        Assert.Contains(expectedMessage, error.Message);
    }
}
