using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class RequestDecodeTests
{
    private static readonly AnthropicCodec Codec = AnthropicCodec.Instance;

    internal const string Signature = "EqQBCkYIBxgCKkB+/sig=nature/with+plus==";

    /// <summary>A two-turn tool loop with parallel calls, thinking, an image and the usual request fields.</summary>
    internal const string ToolLoopBody = """
    {
      "model": "claude-sonnet-4-5",
      "max_tokens": 4096,
      "system": [
        {"type": "text", "text": "You are a weather bot."},
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
      ],
      "messages": [
        {"role": "user", "content": [
          {"type": "text", "text": "Weather in Paris and Rome? Also, what is in this picture?"},
          {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}}
        ]},
        {"role": "assistant", "content": [
          {"type": "thinking", "thinking": "Two cities, two calls.", "signature": "EqQBCkYIBxgCKkB+/sig=nature/with+plus=="},
          {"type": "text", "text": "Checking both."},
          {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
          {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Rome", "unit": "c"}}
        ]},
        {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C sunny"},
          {"type": "tool_result", "tool_use_id": "toolu_01B", "content": [{"type": "text", "text": "error: timeout"}], "is_error": true},
          {"type": "text", "text": "Retry Rome please."}
        ]}
      ],
      "tools": [
        {"name": "get_weather", "description": "Current weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}, "cache_control": {"type": "ephemeral"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"type": "google_search"}
      ],
      "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
      "thinking": {"type": "enabled", "budget_tokens": 2048},
      "temperature": 1,
      "top_p": 0.99,
      "top_k": 40,
      "stop_sequences": ["END", "STOP"],
      "stream": true,
      "metadata": {"user_id": "user-42"},
      "service_tier": "auto"
    }
    """;

    private static ChatRequest Decode(string json) => Codec.DecodeRequest(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void ToolLoopBody_DecodesEveryField()
    {
        var request = Decode(ToolLoopBody);

        Assert.Equal("claude-sonnet-4-5", request.Model);
        Assert.True(request.Stream);
        Assert.Equal(4096, request.Sampling.MaxOutputTokens);
        Assert.Equal(1, request.Sampling.Temperature);
        Assert.Equal(0.99, request.Sampling.TopP);
        Assert.Equal(40, request.Sampling.TopK);
        Assert.Equal(["END", "STOP"], request.Sampling.StopSequences);
        Assert.Equal("user-42", request.User);
        JsonAssert.Equal("\"auto\"", request.Extensions["anthropic.service_tier"]);

        Assert.Equal(2, request.System.Count);
        Assert.Equal("You are a weather bot.", Assert.IsType<TextPart>(request.System[0]).Text);
        Assert.Null(request.System[0].Extensions);
        JsonAssert.Equal("""{"type":"ephemeral"}""", request.System[1].Extensions!["anthropic.cache_control"]);

        Assert.Equal(2048, request.Reasoning!.BudgetTokens);
        Assert.True(request.Reasoning.IncludeThoughts);
        Assert.Equal(ToolChoiceMode.Auto, request.ToolChoice!.Mode);
        Assert.False(request.ParallelToolCalls);
    }

    [Fact]
    public void ToolLoopBody_MessagesKeepOrderAndSplitToolResultsIntoToolTurns()
    {
        var messages = Decode(ToolLoopBody).Messages;

        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.User], messages.Select(m => m.Role));

        var image = Assert.IsType<ImagePart>(messages[0].Parts[1]);
        Assert.Equal("image/jpeg", image.MediaType);
        Assert.Equal("/9j/4AAQSkZJRg==", image.Data);

        var assistant = messages[1].Parts;
        var thinking = Assert.IsType<ReasoningPart>(assistant[0]);
        Assert.Equal("Two cities, two calls.", thinking.Text);
        Assert.Equal(Signature, thinking.Signature);
        Assert.Equal(Dialect.Anthropic, thinking.SignatureDialect);
        Assert.Equal("Checking both.", Assert.IsType<TextPart>(assistant[1]).Text);
        var paris = Assert.IsType<ToolCallPart>(assistant[2]);
        var rome = Assert.IsType<ToolCallPart>(assistant[3]);
        Assert.Equal(("toolu_01A", "get_weather"), (paris.Id, paris.Name));
        JsonAssert.Equal("""{"city":"Paris"}""", JsonNode.Parse(paris.Arguments));
        JsonAssert.Equal("""{"city":"Rome","unit":"c"}""", JsonNode.Parse(rome.Arguments));

        var ok = Assert.IsType<ToolResultPart>(messages[2].Parts[0]);
        Assert.Equal(("toolu_01A", "get_weather", false), (ok.ToolCallId, ok.Name, ok.IsError));
        Assert.Equal("18C sunny", Assert.IsType<TextPart>(Assert.Single(ok.Content)).Text);
        var failed = Assert.IsType<ToolResultPart>(messages[2].Parts[1]);
        Assert.True(failed.IsError);
        Assert.Equal("error: timeout", Assert.IsType<TextPart>(Assert.Single(failed.Content)).Text);

        Assert.Equal("Retry Rome please.", Assert.IsType<TextPart>(Assert.Single(messages[3].Parts)).Text);
    }

    [Fact]
    public void ToolLoopBody_ToolsBecomeFunctionNativeAndServerTools()
    {
        var tools = Decode(ToolLoopBody).Tools;

        Assert.Equal(3, tools.Count);
        var function = tools[0];
        Assert.Equal((ToolKind.Function, "get_weather", "Current weather"), (function.Kind, function.Name, function.Description));
        Assert.Equal("object", function.Parameters!["type"]!.GetValue<string>());
        JsonAssert.Equal("""{"type":"ephemeral"}""", function.Extensions!["anthropic.cache_control"]);

        var webSearch = tools[1];
        Assert.Equal((ToolKind.Native, Dialect.Anthropic, "web_search"), (webSearch.Kind, webSearch.NativeDialect, webSearch.Name));
        JsonAssert.Equal("""{"type":"web_search_20250305","name":"web_search","max_uses":3}""", webSearch.Config);

        Assert.Equal(ToolKind.GoogleSearch, tools[2].Kind);
        JsonAssert.Equal("{}", tools[2].Config);
    }

    [Theory]
    [InlineData("""{"name":"google_search"}""", ToolKind.GoogleSearch, "{}")]
    [InlineData("""{"name":"google_search","type":"google_search"}""", ToolKind.GoogleSearch, "{}")]
    [InlineData("""{"type":"url_context"}""", ToolKind.UrlContext, "{}")]
    [InlineData("""{"type":"code_execution","code_execution":{"x":1}}""", ToolKind.CodeExecution, """{"x":1}""")]
    public void GeminiServerTools_AcceptedForms(string tool, ToolKind kind, string config)
    {
        var request = Decode($$"""{"model":"m","messages":[],"tools":[{{tool}}]}""");

        var decoded = Assert.Single(request.Tools);
        Assert.Equal(kind, decoded.Kind);
        JsonAssert.Equal(config, decoded.Config);
    }

    [Fact]
    public void DatedCodeExecutionTool_StaysAnthropicNative()
    {
        var request = Decode("""{"model":"m","messages":[],"tools":[{"type":"code_execution_20250825","name":"code_execution"}]}""");

        Assert.Equal(ToolKind.Native, Assert.Single(request.Tools).Kind);
    }

    [Theory]
    [InlineData("""{"type":"any"}""", ToolChoiceMode.Required, null)]
    [InlineData("""{"type":"none"}""", ToolChoiceMode.None, null)]
    [InlineData("""{"type":"tool","name":"get_weather"}""", ToolChoiceMode.Function, "get_weather")]
    public void ToolChoice_Modes(string choice, ToolChoiceMode mode, string? name)
    {
        var request = Decode($$"""{"model":"m","messages":[],"tool_choice":{{choice}}}""");

        Assert.Equal(mode, request.ToolChoice!.Mode);
        Assert.Equal(name, request.ToolChoice.Name);
        Assert.Null(request.ParallelToolCalls);
    }

    [Fact]
    public void ThinkingDisabled_IsEffortNoneBudgetZero()
    {
        var reasoning = Decode("""{"model":"m","messages":[],"thinking":{"type":"disabled"}}""").Reasoning!;

        Assert.Equal(("none", 0), (reasoning.Effort, reasoning.BudgetTokens));
    }

    [Fact]
    public void AdaptiveThinking_TakesEffortFromOutputConfigAndKeepsTheRest()
    {
        var request = Decode("""
            {"model":"m","messages":[],"thinking":{"type":"adaptive"},
             "output_config":{"effort":"high","format":{"type":"json_schema","schema":{"type":"object"}},"other":1}}
            """);

        Assert.Equal(("high", -1, true), (request.Reasoning!.Effort, request.Reasoning.BudgetTokens, request.Reasoning.IncludeThoughts));
        Assert.Equal(ResponseFormatKind.JsonSchema, request.ResponseFormat!.Kind);
        JsonAssert.Equal("""{"type":"object"}""", request.ResponseFormat.Schema);
        JsonAssert.Equal("""{"other":1}""", request.Extensions["anthropic.output_config"]);
    }

    [Fact]
    public void AdaptiveThinkingWithoutEffort_IsAuto()
    {
        var reasoning = Decode("""{"model":"m","messages":[],"thinking":{"type":"adaptive"}}""").Reasoning!;

        Assert.Equal(("auto", -1), (reasoning.Effort, reasoning.BudgetTokens));
    }

    [Fact]
    public void EffortWithoutThinking_StaysAnOutputSetting()
    {
        var request = Decode("""{"model":"m","messages":[],"output_config":{"effort":"low"}}""");

        Assert.Null(request.Reasoning);
        JsonAssert.Equal("""{"effort":"low"}""", request.Extensions["anthropic.output_config"]);
    }

    [Fact]
    public void RedactedThinkingDocumentsAndServerBlocks()
    {
        var request = Decode("""
            {"model":"m","messages":[
              {"role":"user","content":[
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"Spec","citations":{"enabled":true}},
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain body"}},
                {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}
              ]},
              {"role":"assistant","content":[
                {"type":"redacted_thinking","data":"opaque=="},
                {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}},
                {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]}
              ]}
            ]}
            """);

        var user = request.Messages[0].Parts;
        var pdf = Assert.IsType<DocumentPart>(user[0]);
        Assert.Equal(("application/pdf", "JVBERi0=", "Spec"), (pdf.MediaType, pdf.Data, pdf.Title));
        JsonAssert.Equal("""{"enabled":true}""", pdf.Extensions!["anthropic.citations"]);
        Assert.Equal("plain body", Assert.IsType<DocumentPart>(user[1]).Text);
        Assert.Equal("https://example.com/a.png", Assert.IsType<ImagePart>(user[2]).Url);

        var assistant = request.Messages[1].Parts;
        Assert.Equal("opaque==", Assert.IsType<ReasoningPart>(assistant[0]).RedactedData);
        var serverUse = Assert.IsType<NativePart>(assistant[1]);
        Assert.Equal(Dialect.Anthropic, serverUse.Dialect);
        JsonAssert.Equal("""{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}}""", serverUse.Json);
        Assert.IsType<NativePart>(assistant[2]);
    }

    [Fact]
    public void CountTokensBody_WithoutMaxTokens_Decodes()
    {
        var request = Decode("""{"model":"claude-opus-4-1","system":"Be nice.","messages":[{"role":"user","content":"Hello"}]}""");

        Assert.Null(request.Sampling.MaxOutputTokens);
        Assert.Equal("Be nice.", Assert.IsType<TextPart>(Assert.Single(request.System)).Text);
        Assert.Equal("Hello", Assert.IsType<TextPart>(Assert.Single(Assert.Single(request.Messages).Parts)).Text);
    }

    [Theory]
    [InlineData("""{"messages":[]}""", "model")]
    [InlineData("""{"model":"m"}""", "messages")]
    [InlineData("""{"model":"m","messages":{}}""", "messages")]
    [InlineData("""{"model":"m","messages":["hi"]}""", "messages[0]")]
    [InlineData("""{"model":"m","messages":[{"role":"user"}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":7}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":5}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":"{}"}]}]}""", "messages[0].content[0].input")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64"}}]}]}""", "messages[0].content[0].source.data")]
    [InlineData("""{"model":"m","max_tokens":"many","messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1.5,"messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[],"tools":[{"description":"no name"}]}""", "tools[0].name")]
    [InlineData("""{"model":"m","messages":[],"tools":"all"}""", "tools")]
    [InlineData("""{"model":"m","messages":[],"tool_choice":{"type":"tool"}}""", "tool_choice.name")]
    [InlineData("""{"model":"m","messages":[],"thinking":{"type":"enabled","budget_tokens":"big"}}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"m","messages":[],"stop_sequences":[1]}""", "stop_sequences[0]")]
    [InlineData("""{"model":"m","messages":[],"metadata":{"user_id":3}}""", "metadata.user_id")]
    [InlineData("""{"model":"m","messages":[],"stream":"yes"}""", "stream")]
    public void BadInput_ThrowsRequestFormatExceptionNamingTheField(string body, string field)
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode(body));

        Assert.StartsWith(field, error.Message);
    }
    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text"}]}]}]}""",
        "messages[1].content[0].content[0].text is required")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":[{"type":"tool_addition","tool":{"type":"tool_definition","definition":{"input_schema":{}}}}]}]}""",
        "messages[0].content[0].tool.definition.name is required")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":[{"type":"tool_addition","tool":{"type":"tool_definition","definition":[]}}]}]}""",
        "messages[0].content[0].tool.definition must be an object")]
    [InlineData("""{"model":"m","system":[{"type":"text","text":"a"},{"type":"text"}],"messages":[]}""", "system[1].text is required")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"url"}}]}]}""", "messages[0].content[0].source.url is required")]
    [InlineData("""{"model":"m","messages":[],"tools":[{"name":"f","input_schema":"{}"}]}""", "tools[0].input_schema must be an object")]
    public void BadNestedInput_NamesTheWholePath(string body, string message)
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode(body));

        Assert.Equal(message, error.Message);
    }

    /// <summary>The host disposes the pooled document right after decoding: nothing decoded may still point into it.</summary>
    [Fact]
    public void DecodedRequest_OutlivesTheDocument()
    {
        const string body = """
        {"model":"m","max_tokens":10,"custom_flag":{"on":true},
         "metadata":{"user_id":"u","trace":"t1"},
         "output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}},
         "tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"cache_control":{"type":"ephemeral"}},
                  {"type":"web_search_20250305","name":"web_search","max_uses":2}],
         "messages":[
          {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},{"type":"server_tool_use","id":"s1","name":"web_search","input":{"query":"q"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]}
        """;
        ChatRequest request;
        using (var document = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetBytes(body)))
            request = Codec.DecodeRequest(document.RootElement);

        var anthropic = Codec.EncodeRequest(request, "m");
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""", anthropic["tools"]![0]!["input_schema"]);
        JsonAssert.Equal("""{"type":"ephemeral"}""", anthropic["tools"]![0]!["cache_control"]);
        JsonAssert.Equal("""{"type":"web_search_20250305","name":"web_search","max_uses":2}""", anthropic["tools"]![1]);
        JsonAssert.Equal("""{"on":true}""", anthropic["custom_flag"]);
        JsonAssert.Equal("""{"user_id":"u","trace":"t1"}""", anthropic["metadata"]);
        JsonAssert.Equal("""{"type":"server_tool_use","id":"s1","name":"web_search","input":{"query":"q"}}""", anthropic["messages"]![1]!["content"]![1]);
        Assert.Equal("iVBORw0KGgo=", (string?)anthropic["messages"]![0]!["content"]![1]!["source"]!["data"]);

        var chat = PluginProxy.Formats.OpenAIChat.OpenAIChatCodec.Instance.EncodeRequest(request, "gpt");
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""", chat["tools"]![0]!["function"]!["parameters"]);
        JsonAssert.Equal("""{"type":"object","properties":{"a":{"type":"string"}}}""", chat["response_format"]!["json_schema"]!["schema"]);
        Assert.Equal("""{"city":"Paris"}""", (string?)chat["messages"]![1]!["tool_calls"]![0]!["function"]!["arguments"]);
    }
}
