using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class RequestDecodeTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    /// <summary>Two turns of a tool loop: parallel calls with their outputs, an image, signed reasoning, grounding tools.</summary>
    internal const string ToolLoopBody = """
    {
      "model": "gpt-5-codex",
      "instructions": "You are a weather assistant.",
      "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer in metric units."}]},
        {"type": "message", "role": "user", "content": [
          {"type": "input_text", "text": "Weather in Paris and Rome? And what is in this photo?"},
          {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", "detail": "high"}
        ]},
        {"type": "reasoning", "id": "rs_0a1", "summary": [{"type": "summary_text", "text": "Two cities, call the tool twice."}], "encrypted_content": "gAAAAABo+Zx/9q==<sig>&more"},
        {"type": "function_call", "id": "fc_0a2", "call_id": "call_paris", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call", "id": "fc_0a3", "call_id": "call_rome", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
        {"type": "function_call_output", "call_id": "call_paris", "output": "18°C, sunny"},
        {"type": "function_call_output", "call_id": "call_rome", "output": [
          {"type": "input_text", "text": "22°C"},
          {"type": "input_image", "image_url": "https://example.com/rome-radar.png"}
        ]},
        {"type": "message", "role": "assistant", "id": "msg_0a4", "content": [{"type": "output_text", "text": "Paris 18°C, Rome 22°C. The photo shows a cat."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Which city is warmer?"}]}
      ],
      "tools": [
        {"type": "function", "name": "get_weather", "description": "Current weather for a city",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false},
         "strict": true},
        {"type": "web_search", "search_context_size": "low"},
        {"type": "google_search"},
        {"type": "url_context"},
        {"type": "code_execution"}
      ],
      "tool_choice": "auto",
      "parallel_tool_calls": true,
      "reasoning": {"effort": "high", "summary": "auto"},
      "max_output_tokens": 4096,
      "temperature": 0.2,
      "top_p": 0.9,
      "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}, "verbosity": "low"},
      "stream": true,
      "user": "user-42",
      "store": false,
      "include": ["reasoning.encrypted_content"],
      "prompt_cache_key": "thread-7",
      "metadata": {"ticket": "T-1"}
    }
    """;

    [Fact]
    public void Decodes_a_two_turn_tool_loop_with_parallel_calls()
    {
        var request = Codec.DecodeRequest(Parse(ToolLoopBody));

        Assert.Equal("gpt-5-codex", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        Assert.Equal("user-42", request.User);
        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant, Role.User], request.Messages.Select(m => m.Role));

        var firstAssistant = request.Messages[1];
        var reasoning = Assert.IsType<ReasoningPart>(firstAssistant.Parts[0]);
        Assert.Equal("Two cities, call the tool twice.", reasoning.Text);
        Assert.Equal("gAAAAABo+Zx/9q==<sig>&more", reasoning.Signature);
        Assert.Equal(Dialect.OpenAIResponses, reasoning.SignatureDialect);
        var paris = Assert.IsType<ToolCallPart>(firstAssistant.Parts[1]);
        var rome = Assert.IsType<ToolCallPart>(firstAssistant.Parts[2]);
        Assert.Equal(("call_paris", "get_weather", "{\"city\":\"Paris\"}"), (paris.Id, paris.Name, paris.Arguments));
        Assert.Equal("call_rome", rome.Id);
        Assert.Equal("fc_0a2", (string?)paris.Extensions?["responses.id"]);

        var results = request.Messages[2].Parts.Cast<ToolResultPart>().ToList();
        Assert.Equal(["call_paris", "call_rome"], results.Select(r => r.ToolCallId));
        Assert.All(results, r => Assert.Equal("get_weather", r.Name));
        Assert.Equal("18°C, sunny", Assert.IsType<TextPart>(Assert.Single(results[0].Content)).Text);
        Assert.Equal("22°C", Assert.IsType<TextPart>(results[1].Content[0]).Text);
        Assert.Equal("https://example.com/rome-radar.png", Assert.IsType<ImagePart>(results[1].Content[1]).Url);

        var answer = Assert.IsType<TextPart>(Assert.Single(request.Messages[3].Parts));
        Assert.Equal("Paris 18°C, Rome 22°C. The photo shows a cat.", answer.Text);
        Assert.Equal("msg_0a4", (string?)answer.Extensions?["responses.id"]);
    }

    [Fact]
    public void Decodes_images_as_base64_with_media_type()
    {
        var request = Codec.DecodeRequest(Parse(ToolLoopBody));

        var image = Assert.IsType<ImagePart>(request.Messages[0].Parts[1]);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal("iVBORw0KGgoAAAANSUhEUg==", image.Data);
        Assert.Null(image.Url);
        Assert.Equal("high", image.Detail);
    }

    [Fact]
    public void Instructions_and_developer_messages_become_the_system_prompt()
    {
        var request = Codec.DecodeRequest(Parse(ToolLoopBody));

        Assert.Equal(["You are a weather assistant.", "Answer in metric units."], request.System.Cast<TextPart>().Select(p => p.Text));
        Assert.Null(request.System[0].Extensions);
        Assert.Equal("developer", (string?)request.System[1].Extensions?["responses.role"]);
    }

    [Fact]
    public void Decodes_tools_choice_reasoning_sampling_and_format()
    {
        var request = Codec.DecodeRequest(Parse(ToolLoopBody));

        var function = request.Tools[0];
        Assert.Equal((ToolKind.Function, "get_weather", "Current weather for a city", true), (function.Kind, function.Name, function.Description, function.Strict));
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""", function.Parameters);
        var webSearch = request.Tools[1];
        Assert.Equal((ToolKind.Native, Dialect.OpenAIResponses), (webSearch.Kind, webSearch.NativeDialect));
        JsonAssert.Equal("""{"type":"web_search","search_context_size":"low"}""", webSearch.Config);
        Assert.Equal([ToolKind.GoogleSearch, ToolKind.UrlContext, ToolKind.CodeExecution], request.Tools.Skip(2).Select(t => t.Kind));
        JsonAssert.Equal("{}", request.Tools[2].Config);

        Assert.Equal(ToolChoiceMode.Auto, request.ToolChoice?.Mode);
        Assert.True(request.ParallelToolCalls);
        Assert.Equal(("high", "auto", true), (request.Reasoning?.Effort, request.Reasoning?.Summary, request.Reasoning?.IncludeThoughts));
        Assert.Equal((0.2, 0.9, 4096), (request.Sampling.Temperature, request.Sampling.TopP, request.Sampling.MaxOutputTokens));
        Assert.Equal(ResponseFormatKind.JsonSchema, request.ResponseFormat?.Kind);
        Assert.Equal(("answer", true), (request.ResponseFormat?.Name, request.ResponseFormat?.Strict));
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}}}""", request.ResponseFormat?.Schema);
    }

    [Fact]
    public void Fields_without_a_canonical_home_go_to_extensions()
    {
        var request = Codec.DecodeRequest(Parse(ToolLoopBody));

        JsonAssert.Equal("""
            {"responses.text.verbosity":"low","responses.store":false,"responses.include":["reasoning.encrypted_content"],
             "responses.prompt_cache_key":"thread-7","responses.metadata":{"ticket":"T-1"}}
            """, request.Extensions);
    }

    [Fact]
    public void A_string_input_is_one_user_message()
    {
        var request = Codec.DecodeRequest(Parse("""{"model":"gpt-5","input":"Hello there"}"""));

        var message = Assert.Single(request.Messages);
        Assert.Equal(Role.User, message.Role);
        Assert.Equal("Hello there", Assert.IsType<TextPart>(Assert.Single(message.Parts)).Text);
        Assert.Empty(request.System);
        Assert.False(request.Stream);
    }

    [Fact]
    public void Untyped_messages_string_content_and_input_files_are_accepted()
    {
        var request = Codec.DecodeRequest(Parse("""
            {"model":"gpt-4.1","input":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":[
                {"type":"input_file","filename":"report.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQ="},
                {"type":"input_image","file_id":"file-abc"},
                {"type":"input_text","text":"Summarise"}
              ]}
            ]}
            """));

        Assert.Equal("Be brief.", Assert.IsType<TextPart>(Assert.Single(request.System)).Text);
        Assert.Equal("system", (string?)request.System[0].Extensions?["responses.role"]);
        var parts = Assert.Single(request.Messages).Parts;
        var file = Assert.IsType<DocumentPart>(parts[0]);
        Assert.Equal(("report.pdf", "application/pdf", "JVBERi0xLjQ="), (file.Title, file.MediaType, file.Data));
        var image = Assert.IsType<ImagePart>(parts[1]);
        Assert.Equal("file-abc", (string?)image.Extensions?["responses.file_id"]);
        Assert.Equal("Summarise", Assert.IsType<TextPart>(parts[2]).Text);
    }

    /// <summary>A Codex CLI body: namespace and web_search tools, custom tool calls in history, client metadata.</summary>
    [Fact]
    public void Decodes_a_codex_cli_body_without_error()
    {
        var request = Codec.DecodeRequest(Parse("""
            {
              "model": "gpt-5.1-codex",
              "instructions": "You are Codex, based on GPT-5.",
              "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions instructions>workspace-write</permissions instructions>"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context><cwd>/repo</cwd></environment_context>"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix the failing test"}]},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "**Inspecting tests**"}], "content": null, "encrypted_content": "gAAAAABpEnc"},
                {"type": "custom_tool_call", "status": "completed", "call_id": "call_patch", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
                {"type": "custom_tool_call_output", "call_id": "call_patch", "output": "Success"},
                {"type": "function_call", "name": "exec_command", "namespace": "mcp__shell", "arguments": "{\"cmd\":\"dotnet test\"}", "call_id": "call_exec"},
                {"type": "function_call_output", "call_id": "call_exec", "output": "Passed!"}
              ],
              "tools": [
                {"type": "function", "name": "exec_command", "description": "Runs a command", "strict": false,
                 "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"], "additionalProperties": false}},
                {"type": "custom", "name": "apply_patch", "description": "Edit files", "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}},
                {"type": "namespace", "name": "mcp__docs", "description": "Docs server", "tools": [
                  {"type": "function", "name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
                ]},
                {"type": "web_search", "external_web_access": false}
              ],
              "tool_choice": "auto",
              "parallel_tool_calls": false,
              "reasoning": {"summary": "auto"},
              "store": false,
              "stream": true,
              "include": ["reasoning.encrypted_content"],
              "prompt_cache_key": "0199a1b2-c3d4",
              "client_metadata": {"x-codex-installation-id": "inst-1"}
            }
            """));

        Assert.Equal([Role.User, Role.User, Role.Assistant, Role.Tool, Role.Assistant, Role.Tool], request.Messages.Select(m => m.Role));
        var customCall = Assert.IsType<NativePart>(request.Messages[2].Parts[1]);
        Assert.Equal("custom_tool_call", (string?)customCall.Json["type"]);
        Assert.IsType<NativePart>(Assert.Single(request.Messages[3].Parts));
        var exec = Assert.IsType<ToolCallPart>(Assert.Single(request.Messages[4].Parts));
        JsonAssert.Equal("""{"namespace":"mcp__shell"}""", exec.Extensions?["responses.extra"]);
        Assert.Equal("exec_command", Assert.IsType<ToolResultPart>(Assert.Single(request.Messages[5].Parts)).Name);
        Assert.Equal([ToolKind.Function, ToolKind.Native, ToolKind.Native, ToolKind.Native], request.Tools.Select(t => t.Kind));
        Assert.Equal(["exec_command", "apply_patch", "mcp__docs", "web_search"], request.Tools.Select(t => t.Name));
        Assert.Equal((null, "auto", true), (request.Reasoning?.Effort, request.Reasoning?.Summary, request.Reasoning?.IncludeThoughts));
        Assert.False(request.ParallelToolCalls);
        JsonAssert.Equal("""{"x-codex-installation-id":"inst-1"}""", request.Extensions["responses.client_metadata"]);
    }

    [Theory]
    [InlineData("""{"type":"function","name":"lookup"}""", ToolChoiceMode.Function, "lookup")]
    [InlineData("\"required\"", ToolChoiceMode.Required, null)]
    [InlineData("\"none\"", ToolChoiceMode.None, null)]
    public void Decodes_tool_choice_forms(string choice, ToolChoiceMode mode, string? name)
    {
        var request = Codec.DecodeRequest(Parse($$"""{"model":"m","input":"hi","tool_choice":{{choice}}}"""));

        Assert.Equal(mode, request.ToolChoice?.Mode);
        Assert.Equal(name, request.ToolChoice?.Name);
    }

    [Fact]
    public void A_hosted_tool_choice_is_kept_verbatim_in_extensions()
    {
        var request = Codec.DecodeRequest(Parse("""{"model":"m","input":"hi","tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"a"}]}}"""));

        Assert.Null(request.ToolChoice);
        JsonAssert.Equal("""{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"a"}]}""", request.Extensions["responses.tool_choice"]);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "input is required")]
    [InlineData("""{"model":"m","input":42}""", "input must be")]
    [InlineData("""{"model":"m","input":["hi"]}""", "input[0] must be an object")]
    [InlineData("""{"model":"m","input":[{"content":"hi"}]}""", "input[0] needs a type or a role")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":7}]}""", "input[0].content must be")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]}""", "input[0].content[0].text is required")]
    [InlineData("""{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id is required")]
    [InlineData("""{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":5}]}""", "input[0].output must be")]
    [InlineData("""{"model":7,"input":"hi"}""", "model must be a string")]
    [InlineData("""{"model":"m","input":"hi","tools":[{"type":"function"}]}""", "tools[0].name is required")]
    [InlineData("""{"model":"m","input":"hi","tools":{}}""", "tools must be an array")]
    [InlineData("""{"model":"m","input":"hi","temperature":"hot"}""", "temperature must be a number")]
    [InlineData("""{"model":"m","input":"hi","max_output_tokens":1.5}""", "max_output_tokens must be an integer")]
    [InlineData("""{"model":"m","input":"hi","stream":"yes"}""", "stream must be a boolean")]
    [InlineData("""{"model":"m","input":"hi","reasoning":"high"}""", "reasoning must be an object")]
    public void Bad_input_is_a_request_format_error(string body, string expectedMessage)
    {
        var error = Assert.Throws<RequestFormatException>(() => Codec.DecodeRequest(Parse(body)));
        Assert.Contains(expectedMessage, error.Message);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
