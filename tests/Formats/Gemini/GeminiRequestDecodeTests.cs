using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Gemini;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

public sealed class GeminiRequestDecodeTests
{
    private static ChatRequest Decode(string json) => GeminiCodec.Instance.DecodeRequest(JsonNode.Parse(json)!.AsObject());

    private const string Signature = "CiQBcsjafE+/x8Zm1Q==+ü<sig>";

    [Fact]
    public void Decodes_a_realistic_multi_turn_request_with_parallel_tool_calls()
    {
        var request = Decode("""
        {
          "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Use metric units."}]},
          "contents": [
            {"role": "user", "parts": [
              {"text": "Weather in Paris and Rome? Also what is in this picture?"},
              {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
            ]},
            {"role": "model", "parts": [
              {"text": "Checking the forecast.", "thought": true, "thoughtSignature": "SIGNATURE"},
              {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "fc-sig-1"},
              {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
            ]},
            {"role": "user", "parts": [
              {"functionResponse": {"name": "get_weather", "response": {"temp": 21, "sky": "sunny"}}},
              {"functionResponse": {"name": "get_weather", "response": {"result": "rain"}}}
            ]},
            {"role": "model", "parts": [{"text": "Paris 21°C sunny, Rome rain. The picture shows a cat."}]},
            {"parts": [{"text": "Thanks!"}]}
          ],
          "generationConfig": {"temperature": 0.2, "topP": 0.9, "topK": 40, "maxOutputTokens": 2048, "stopSequences": ["END"], "seed": 7}
        }
        """.Replace("SIGNATURE", Signature));

        Assert.Equal("", request.Model);
        Assert.Equal(["You are terse.", "Use metric units."], request.System.Cast<TextPart>().Select(p => p.Text));
        Assert.Equal([Role.User, Role.Assistant, Role.User, Role.Assistant, Role.User], request.Messages.Select(m => m.Role));

        var image = Assert.IsType<ImagePart>(request.Messages[0].Parts[1]);
        Assert.Equal(("image/png", "iVBORw0KGgo="), (image.MediaType, image.Data));

        var model = request.Messages[1].Parts;
        var thought = Assert.IsType<ReasoningPart>(model[0]);
        Assert.Equal("Checking the forecast.", thought.Text);
        Assert.Equal(Signature, thought.Signature);
        Assert.Equal(Dialect.Gemini, thought.SignatureDialect);
        var paris = Assert.IsType<ToolCallPart>(model[1]);
        var rome = Assert.IsType<ToolCallPart>(model[2]);
        Assert.Equal(("call_get_weather_1", "get_weather"), (paris.Id, paris.Name));
        JsonAssert.Equal("""{"city":"Paris"}""", JsonNode.Parse(paris.Arguments));
        Assert.Equal(("fc-sig-1", Dialect.Gemini), (paris.Signature, paris.SignatureDialect));
        Assert.Null(paris.Extensions);
        Assert.Equal("call_get_weather_2", rome.Id);
        Assert.Null(rome.Signature);
        Assert.Null(rome.SignatureDialect);
        Assert.Null(rome.Extensions);

        var results = request.Messages[2].Parts.Cast<ToolResultPart>().ToList();
        Assert.Equal(["call_get_weather_1", "call_get_weather_2"], results.Select(r => r.ToolCallId));
        Assert.All(results, r => Assert.Equal("get_weather", r.Name));
        JsonAssert.Equal("""{"temp":21,"sky":"sunny"}""", JsonNode.Parse(Assert.IsType<TextPart>(results[0].Content.Single()).Text));
        Assert.Equal("rain", Assert.IsType<TextPart>(results[1].Content.Single()).Text);

        var sampling = request.Sampling;
        Assert.Equal((0.2, 0.9, 40, 2048, 7L), (sampling.Temperature, sampling.TopP, sampling.TopK, sampling.MaxOutputTokens, sampling.Seed));
        Assert.Equal(["END"], sampling.StopSequences);
        Assert.False(request.Stream);
    }

    [Fact]
    public void Pairs_results_by_id_when_given_and_by_name_order_otherwise()
    {
        var request = Decode("""
        {"contents": [
          {"role": "model", "parts": [
            {"functionCall": {"id": "a1", "name": "read", "args": {"path": "x"}}},
            {"functionCall": {"name": "list", "args": {}}},
            {"functionCall": {"name": "read", "args": {"path": "y"}}}
          ]},
          {"role": "function", "parts": [
            {"functionResponse": {"id": "a1", "name": "read", "response": {"result": "X"}}},
            {"functionResponse": {"name": "read", "response": {"result": "Y"}}},
            {"functionResponse": {"name": "list", "response": {"error": "denied"}}}
          ]}
        ]}
        """);

        var calls = request.Messages[0].Parts.Cast<ToolCallPart>().Select(c => c.Id).ToList();
        Assert.Equal(["a1", "call_list_1", "call_read_2"], calls);
        Assert.Equal(Role.Tool, request.Messages[1].Role);
        var results = request.Messages[1].Parts.Cast<ToolResultPart>().ToList();
        Assert.Equal(["a1", "call_read_2", "call_list_1"], results.Select(r => r.ToolCallId));
        Assert.Equal("Y", ((TextPart)results[1].Content[0]).Text);
        Assert.True(results[2].IsError);
        Assert.Equal("denied", ((TextPart)results[2].Content[0]).Text);
    }

    [Fact]
    public void Generated_ids_are_stable_for_the_same_history()
    {
        const string body = """{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}""";
        var first = Decode(body);
        var second = Decode(body);
        Assert.Equal(((ToolCallPart)first.Messages[0].Parts[0]).Id, ((ToolCallPart)second.Messages[0].Parts[0]).Id);
        Assert.Equal(((ToolCallPart)first.Messages[0].Parts[0]).Id, ((ToolResultPart)first.Messages[1].Parts[0]).ToolCallId);
    }

    [Fact]
    public void Decodes_tools_tool_config_thinking_and_response_format()
    {
        var request = Decode("""
        {
          "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
          "tools": [
            {"functionDeclarations": [
              {"name": "get_weather", "description": "Current weather", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
              {"name": "legacy", "parameters": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}, "tags": {"type": "ARRAY", "items": {"type": "STRING"}}}}}
            ]},
            {"googleSearch": {}},
            {"codeExecution": {}},
            {"urlContext": {}},
            {"googleSearchRetrieval": {"dynamicRetrievalConfig": {"mode": "MODE_DYNAMIC"}}}
          ],
          "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
          "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "properties": {"answer": {"type": "string"}}},
            "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": true},
            "responseModalities": ["TEXT"],
            "candidateCount": 2, "presencePenalty": 0.5, "frequencyPenalty": 0.25
          },
          "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
          "cachedContent": "cachedContents/abc"
        }
        """);

        Assert.Equal([ToolKind.Function, ToolKind.Function, ToolKind.GoogleSearch, ToolKind.CodeExecution, ToolKind.UrlContext, ToolKind.Native],
            request.Tools.Select(t => t.Kind));
        var weather = request.Tools[0];
        Assert.Equal(("get_weather", "Current weather"), (weather.Name, weather.Description));
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""", weather.Parameters);
        Assert.Null(weather.Extensions);
        // OpenAPI-style types become JSON Schema types; the field used is remembered for the way back.
        JsonAssert.Equal("""{"type":"object","properties":{"n":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}}}""", request.Tools[1].Parameters);
        Assert.Equal("parameters", request.Tools[1].Extensions!["gemini.parametersKey"]!.GetValue<string>());
        JsonAssert.Equal("{}", request.Tools[2].Config);
        Assert.Equal(Dialect.Gemini, request.Tools[5].NativeDialect);
        JsonAssert.Equal("""{"googleSearchRetrieval":{"dynamicRetrievalConfig":{"mode":"MODE_DYNAMIC"}}}""", request.Tools[5].Config);

        Assert.Equal(ToolChoiceMode.Function, request.ToolChoice!.Mode);
        Assert.Equal("get_weather", request.ToolChoice.Name);
        Assert.False(request.Extensions.ContainsKey("gemini.toolConfig"));

        Assert.Equal(ResponseFormatKind.JsonSchema, request.ResponseFormat!.Kind);
        JsonAssert.Equal("""{"type":"object","properties":{"answer":{"type":"string"}}}""", request.ResponseFormat.Schema);
        Assert.Equal("high", request.Reasoning!.Effort);
        Assert.Null(request.Reasoning.BudgetTokens);
        Assert.True(request.Reasoning.IncludeThoughts);
        Assert.Equal((2, 0.5, 0.25), (request.Sampling.CandidateCount, request.Sampling.PresencePenalty, request.Sampling.FrequencyPenalty));

        JsonAssert.Equal("""["TEXT"]""", request.Extensions["gemini.generationConfig.responseModalities"]);
        JsonAssert.Equal("""[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]""", request.Extensions["gemini.safetySettings"]);
        Assert.Equal("cachedContents/abc", request.Extensions["gemini.cachedContent"]!.GetValue<string>());
    }

    [Fact]
    public void Accepts_snake_case_everywhere()
    {
        var request = Decode("""
        {
          "system_instruction": {"parts": [{"text": "sys"}]},
          "contents": [{"role": "user", "parts": [
            {"inline_data": {"mime_type": "application/pdf", "data": "JVBERi0="}},
            {"file_data": {"mime_type": "image/jpeg", "file_uri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}
          ]}],
          "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}, {"google_search": {}}, {"url_context": {}}],
          "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f", "g"]}},
          "generation_config": {"max_output_tokens": 100, "stop_sequences": ["x"], "top_k": 3,
            "thinking_config": {"thinking_budget": 1024, "include_thoughts": true},
            "response_mime_type": "application/json", "response_schema": {"type": "OBJECT"},
            "response_modalities": ["TEXT", "IMAGE"]}
        }
        """);

        Assert.Equal("sys", ((TextPart)request.System[0]).Text);
        var pdf = Assert.IsType<DocumentPart>(request.Messages[0].Parts[0]);
        Assert.Equal(("application/pdf", "JVBERi0="), (pdf.MediaType, pdf.Data));
        var file = Assert.IsType<ImagePart>(request.Messages[0].Parts[1]);
        Assert.Equal(("image/jpeg", "https://generativelanguage.googleapis.com/v1beta/files/abc"), (file.MediaType, file.Url));
        Assert.Equal([ToolKind.Function, ToolKind.GoogleSearch, ToolKind.UrlContext], request.Tools.Select(t => t.Kind));
        JsonAssert.Equal("""{"type":"object"}""", request.Tools[0].Parameters);
        Assert.Equal(ToolChoiceMode.Required, request.ToolChoice!.Mode);
        JsonAssert.Equal("""{"functionCallingConfig":{"allowedFunctionNames":["f","g"]}}""", request.Extensions["gemini.toolConfig"]);
        Assert.Equal((100, 3), (request.Sampling.MaxOutputTokens, request.Sampling.TopK));
        Assert.Equal(["x"], request.Sampling.StopSequences);
        Assert.Equal((1024, true), (request.Reasoning!.BudgetTokens, request.Reasoning.IncludeThoughts));
        JsonAssert.Equal("""{"type":"object"}""", request.ResponseFormat!.Schema);
        Assert.Equal("responseSchema", request.Extensions["gemini.responseSchemaKey"]!.GetValue<string>());
        JsonAssert.Equal("""["TEXT","IMAGE"]""", request.Extensions["gemini.generationConfig.responseModalities"]);
    }

    [Theory]
    [InlineData("""{"mode":"AUTO"}""", ToolChoiceMode.Auto, null)]
    [InlineData("""{"mode":"NONE"}""", ToolChoiceMode.None, null)]
    [InlineData("""{"mode":"ANY"}""", ToolChoiceMode.Required, null)]
    [InlineData("""{"mode":"VALIDATED"}""", ToolChoiceMode.Auto, """{"functionCallingConfig":{"mode":"VALIDATED"}}""")]
    public void Maps_function_calling_modes(string config, ToolChoiceMode mode, string? kept)
    {
        var request = Decode("""{"contents":[],"toolConfig":{"functionCallingConfig":""" + config + "}}");
        Assert.Equal(mode, request.ToolChoice!.Mode);
        if (kept is null) Assert.False(request.Extensions.ContainsKey("gemini.toolConfig"));
        else JsonAssert.Equal(kept, request.Extensions["gemini.toolConfig"]);
    }

    [Fact]
    public void Thinking_without_include_thoughts_records_that_thoughts_stay_hidden()
    {
        var request = Decode("""{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}}""");
        Assert.Equal(0, request.Reasoning!.BudgetTokens);
        Assert.False(request.Reasoning.IncludeThoughts);
    }

    [Fact]
    public void Json_mode_without_schema_and_plain_text_mode()
    {
        Assert.Equal(ResponseFormatKind.JsonObject, Decode("""{"contents":[],"generationConfig":{"responseMimeType":"application/json"}}""").ResponseFormat!.Kind);
        Assert.Equal(ResponseFormatKind.Text, Decode("""{"contents":[],"generationConfig":{"responseMimeType":"text/plain"}}""").ResponseFormat!.Kind);
        var enumMode = Decode("""{"contents":[],"generationConfig":{"responseMimeType":"text/x.enum","responseSchema":{"type":"STRING","enum":["a","b"]}}}""");
        Assert.Null(enumMode.ResponseFormat);
        Assert.Equal("text/x.enum", enumMode.Extensions["gemini.generationConfig.responseMimeType"]!.GetValue<string>());
        JsonAssert.Equal("""{"type":"STRING","enum":["a","b"]}""", enumMode.Extensions["gemini.generationConfig.responseSchema"]);
    }

    [Fact]
    public void Keeps_code_execution_parts_native_and_bare_signatures_as_reasoning()
    {
        var request = Decode("""
        {"contents": [{"role": "model", "parts": [
          {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
          {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
          {"text": "", "thoughtSignature": "on-text"},
          {"thoughtSignature": "bare"}
        ]}]}
        """);

        var parts = request.Messages[0].Parts;
        var code = Assert.IsType<NativePart>(parts[0]);
        Assert.Equal(Dialect.Gemini, code.Dialect);
        JsonAssert.Equal("""{"executableCode":{"language":"PYTHON","code":"print(1)"}}""", code.Json);
        Assert.IsType<NativePart>(parts[1]);
        Assert.Equal("on-text", Assert.IsType<TextPart>(parts[2]).Extensions!["gemini.thoughtSignature"]!.GetValue<string>());
        var bare = Assert.IsType<ReasoningPart>(parts[3]);
        Assert.Equal(("", "bare"), (bare.Text, bare.Signature));
    }

    [Fact]
    public void Unwraps_count_tokens_and_cloud_code_envelopes()
    {
        var counted = Decode("""{"generateContentRequest":{"model":"models/gemini-2.5-pro","contents":[{"role":"user","parts":[{"text":"count me"}]}]}}""");
        Assert.Equal("gemini-2.5-pro", counted.Model);
        Assert.Equal("count me", ((TextPart)counted.Messages[0].Parts[0]).Text);

        var plain = Decode("""{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal("", plain.Model);

        var envelope = Decode("""{"model":"gemini-2.5-flash","project":"p","request":{"contents":[{"role":"user","parts":[{"text":"y"}]}]}}""");
        Assert.Equal("gemini-2.5-flash", envelope.Model);
        Assert.Equal("y", ((TextPart)envelope.Messages[0].Parts[0]).Text);
    }

    [Theory]
    [InlineData("""{}""", "contents")]
    [InlineData("""{"contents":{}}""", "contents must be an array")]
    [InlineData("""{"contents":["hi"]}""", "contents[0] must be an object")]
    [InlineData("""{"contents":[{"role":"user","parts":{"text":"x"}}]}""", "contents[0].parts must be an array")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":5}]}]}""", "contents[0].parts[0].text must be a string")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png"}}]}]}""", "contents[0].parts[0].inlineData.data")]
    [InlineData("""{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}""", "contents[0].parts[0].functionCall.name")]
    [InlineData("""{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":"{}"}}]}]}""", "functionCall.args must be an object")]
    [InlineData("""{"contents":[],"tools":{}}""", "tools must be an array")]
    [InlineData("""{"contents":[],"tools":[{"functionDeclarations":[{"description":"no name"}]}]}""", "tools[0].functionDeclarations[0].name")]
    [InlineData("""{"contents":[],"generationConfig":{"temperature":"hot"}}""", "generationConfig.temperature must be a number")]
    [InlineData("""{"contents":[],"generationConfig":{"maxOutputTokens":1.5}}""", "generationConfig.maxOutputTokens must be an integer")]
    [InlineData("""{"contents":[],"generationConfig":{"stopSequences":"END"}}""", "generationConfig.stopSequences must be an array")]
    [InlineData("""{"contents":[],"generationConfig":{"thinkingConfig":{"includeThoughts":"yes"}}}""", "generationConfig.thinkingConfig.includeThoughts must be a boolean")]
    [InlineData("""{"contents":[],"systemInstruction":5}""", "systemInstruction")]
    public void Rejects_bad_input_naming_the_field(string body, string expected)
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode(body));
        Assert.Contains(expected, error.Message);
    }
}
