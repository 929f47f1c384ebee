using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Gemini;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

public sealed class GeminiRequestEncodeTests
{
    private static JsonObject Encode(ChatRequest request, string model = "gemini-2.5-pro") => GeminiCodec.Instance.EncodeRequest(request, model);

    private static ToolCallPart Call(string id, string name, string arguments) => new() { Id = id, Name = name, Arguments = arguments };

    private static ToolResultPart Result(string id, string text, bool isError = false) =>
        new() { ToolCallId = id, Content = [new TextPart(text)], IsError = isError };

    [Fact]
    public void Encodes_a_request_from_another_dialect()
    {
        var request = new ChatRequest
        {
            Model = "gpt-4o",
            System = [new TextPart("Be brief.")],
            Messages =
            [
                new Message(Role.User, new TextPart("Weather in Paris and Rome? And this?"),
                    new ImagePart { MediaType = "image/jpeg", Data = "/9j/4AAQ" },
                    new ImagePart { Url = "https://example.com/cat.png", MediaType = "image/png" }),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "foreign thinking", Signature = "anthropic-sig", SignatureDialect = Dialect.Anthropic },
                    new TextPart("Let me check."),
                    Call("call_1", "get_weather", """{"city":"Paris"}"""),
                    Call("call_2", "get_weather", "not json")),
                new Message(Role.Tool, Result("call_1", """{"temp":21}""")),
                new Message(Role.Tool, Result("call_2", "service down", isError: true)),
                new Message(Role.Assistant, new TextPart("Paris is 21°C.")),
                new Message(Role.User, new TextPart("ok")),
            ],
            Tools =
            [
                new ToolDefinition { Name = "get_weather", Description = "Weather", Parameters = JsonNode.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}"""), Strict = true },
                new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search", Config = new JsonObject() },
                new ToolDefinition { Kind = ToolKind.UrlContext, Name = "url_context" },
                new ToolDefinition { Kind = ToolKind.Native, Name = "web_search", NativeDialect = Dialect.Anthropic, Config = JsonNode.Parse("""{"type":"web_search_20250305"}""") },
            ],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required },
            Sampling = new SamplingOptions { Temperature = 0.5, TopP = 0.95, MaxOutputTokens = 1000, StopSequences = ["STOP!"], Seed = 42, CandidateCount = 1 },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Name = "answer", Schema = JsonNode.Parse("""{"type":"object"}""") },
            Reasoning = new ReasoningConfig { Effort = "high" },
            User = "u-1",
        };

        JsonAssert.Equal("""
        {
          "contents": [
            {"role": "user", "parts": [
              {"text": "Weather in Paris and Rome? And this?"},
              {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
              {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}}
            ]},
            {"role": "model", "parts": [
              {"text": "Let me check."},
              {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}, "thoughtSignature": "skip_thought_signature_validator"},
              {"functionCall": {"name": "get_weather", "args": {}, "id": "call_2"}}
            ]},
            {"role": "user", "parts": [
              {"functionResponse": {"name": "get_weather", "response": {"temp": 21}, "id": "call_1"}},
              {"functionResponse": {"name": "get_weather", "response": {"error": "service down"}, "id": "call_2"}}
            ]},
            {"role": "model", "parts": [{"text": "Paris is 21°C."}]},
            {"role": "user", "parts": [{"text": "ok"}]}
          ],
          "systemInstruction": {"parts": [{"text": "Be brief."}]},
          "tools": [
            {"functionDeclarations": [{"name": "get_weather", "description": "Weather", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false}}]},
            {"googleSearch": {}},
            {"urlContext": {}}
          ],
          "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
          "generationConfig": {
            "temperature": 0.5, "topP": 0.95, "maxOutputTokens": 1000, "stopSequences": ["STOP!"], "candidateCount": 1, "seed": 42,
            "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"},
            "thinkingConfig": {"thinkingBudget": 24576, "includeThoughts": true}
          }
        }
        """, Encode(request));
    }

    [Theory]
    [InlineData(null, "high", null, "gemini-3-pro-preview", """{"thinkingLevel":"HIGH","includeThoughts":true}""")]
    [InlineData(null, "xhigh", null, "gemini-3-flash", """{"thinkingLevel":"HIGH","includeThoughts":true}""")]
    [InlineData(null, "low", null, "gemini-2.5-flash", """{"thinkingBudget":1024,"includeThoughts":true}""")]
    [InlineData(null, "auto", null, "gemini-3-pro-preview", """{"thinkingBudget":-1,"includeThoughts":true}""")]
    [InlineData(null, "none", null, "gemini-2.5-flash", """{"thinkingBudget":0}""")]
    [InlineData(8192, null, null, "gemini-2.5-pro", """{"thinkingBudget":8192,"includeThoughts":true}""")]
    [InlineData(8192, "low", false, "gemini-3-pro-preview", """{"thinkingBudget":8192,"includeThoughts":false}""")]
    [InlineData(0, null, null, "gemini-2.5-flash", """{"thinkingBudget":0}""")]
    [InlineData(null, "medium", null, "claude-sonnet-4-5", """{"thinkingBudget":8192,"includeThoughts":true}""")]
    public void Maps_reasoning_to_thinking_config(int? budget, string? effort, bool? include, string model, string expected)
    {
        var request = new ChatRequest { Reasoning = new ReasoningConfig { BudgetTokens = budget, Effort = effort, IncludeThoughts = include } };
        JsonAssert.Equal(expected, Encode(request, model)["generationConfig"]!["thinkingConfig"]);
    }

    [Fact]
    public void Sends_back_only_gemini_signed_reasoning_and_gemini_call_signatures()
    {
        var signedCall = Call("c1", "run", "{}");
        signedCall.Signature = "call-sig";
        signedCall.SignatureDialect = Dialect.Gemini;
        var foreignCall = Call("c2", "run", "{}");
        foreignCall.Signature = "not-for-gemini";
        foreignCall.SignatureDialect = Dialect.Anthropic;
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.User, new TextPart("go")),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "plan", Signature = "sig/+=1", SignatureDialect = Dialect.Gemini },
                    new ReasoningPart { Text = "unsigned" },
                    new ReasoningPart { RedactedData = "xyz" },
                    signedCall,
                    foreignCall),
                new Message(Role.User, Result("c1", "one"), Result("c2", "two")),
            ],
        };

        JsonAssert.Equal("""
        [
          {"role": "user", "parts": [{"text": "go"}]},
          {"role": "model", "parts": [
            {"text": "plan", "thought": true, "thoughtSignature": "sig/+=1"},
            {"functionCall": {"name": "run", "args": {}, "id": "c1"}, "thoughtSignature": "call-sig"},
            {"functionCall": {"name": "run", "args": {}, "id": "c2"}}
          ]},
          {"role": "user", "parts": [
            {"functionResponse": {"name": "run", "response": {"result": "one"}, "id": "c1"}},
            {"functionResponse": {"name": "run", "response": {"result": "two"}, "id": "c2"}}
          ]}
        ]
        """, Encode(request)["contents"]);
    }

    [Fact]
    public void Keeps_call_signatures_and_tool_result_images_as_sibling_parts()
    {
        var signed = Call("c1", "screenshot", "{}");
        signed.Signature = "real-sig";
        signed.SignatureDialect = Dialect.Gemini;
        var result = new ToolResultPart
        {
            ToolCallId = "c1",
            Content = [new TextPart("captured"), new ImagePart { MediaType = "image/png", Data = "iVBOR" }],
        };
        var request = new ChatRequest
        {
            Messages = [new Message(Role.Assistant, signed), new Message(Role.User, result, new TextPart("describe it"))],
        };

        JsonAssert.Equal("""
        [
          {"role": "model", "parts": [{"functionCall": {"name": "screenshot", "args": {}, "id": "c1"}, "thoughtSignature": "real-sig"}]},
          {"role": "user", "parts": [
            {"functionResponse": {"name": "screenshot", "response": {"result": "captured"}, "id": "c1"}},
            {"text": "describe it"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}}
          ]}
        ]
        """, Encode(request)["contents"]);
    }

    [Theory]
    [InlineData(ToolChoiceMode.Auto, null, """{"functionCallingConfig":{"mode":"AUTO"}}""")]
    [InlineData(ToolChoiceMode.None, null, """{"functionCallingConfig":{"mode":"NONE"}}""")]
    [InlineData(ToolChoiceMode.Function, "f", """{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}""")]
    public void Maps_tool_choice(ToolChoiceMode mode, string? name, string expected)
    {
        var request = new ChatRequest
        {
            Tools = [new ToolDefinition { Name = "f" }],
            ToolChoice = new ToolChoice { Mode = mode, Name = name },
        };
        JsonAssert.Equal(expected, Encode(request)["toolConfig"]);
    }

    [Fact]
    public void Omits_function_calling_config_without_functions_and_adds_no_safety_settings()
    {
        var request = new ChatRequest
        {
            Messages = [new Message(Role.User, new TextPart("hi"))],
            Tools = [new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search" }],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Auto },
        };
        JsonAssert.Equal("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"googleSearch":{}}]}""", Encode(request));
    }

    [Fact]
    public void Drops_empty_text_and_messages_left_without_parts()
    {
        var request = new ChatRequest
        {
            System = [new TextPart("")],
            Messages =
            [
                new Message(Role.User, new TextPart("hi")),
                new Message(Role.Assistant, new TextPart("")),
                new Message(Role.User, new TextPart(""), new TextPart("again")),
            ],
        };
        JsonAssert.Equal("""{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"user","parts":[{"text":"again"}]}]}""", Encode(request));
    }

    [Fact]
    public void Round_trips_a_gemini_cli_request()
    {
        const string body = """
        {
          "contents": [
            {"role": "user", "parts": [{"text": "List the files and read README.md"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}}]},
            {"role": "model", "parts": [
              {"text": "**Planning**\nI will list then read.", "thought": true, "thoughtSignature": "EpUBCpIBAXLI2nz+/abc=="},
              {"functionCall": {"id": "list-1", "name": "list_directory", "args": {"path": "."}}, "thoughtSignature": "CiQBcsjafE7Xq"},
              {"functionCall": {"id": "read-2", "name": "read_file", "args": {"absolute_path": "/w/README.md"}}}
            ]},
            {"role": "user", "parts": [
              {"functionResponse": {"id": "list-1", "name": "list_directory", "response": {"output": "README.md\nsrc/"}}},
              {"functionResponse": {"id": "read-2", "name": "read_file", "response": {"result": "# Demo"}}}
            ]},
            {"role": "model", "parts": [{"text": "Done."}, {"text": "", "thoughtSignature": "Eh0KGwFyyNp8"}]},
            {"role": "user", "parts": [{"text": "Search the web for the latest release."}]}
          ],
          "systemInstruction": {"parts": [{"text": "You are an interactive CLI agent."}]},
          "tools": [
            {"functionDeclarations": [
              {"name": "list_directory", "description": "Lists a directory.", "parametersJsonSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
              {"name": "read_file", "description": "Reads a file.", "parameters": {"type": "object", "properties": {"absolute_path": {"type": "string"}}}}
            ]},
            {"googleSearch": {}},
            {"codeExecution": {}}
          ],
          "toolConfig": {"functionCallingConfig": {"mode": "VALIDATED"}},
          "generationConfig": {
            "temperature": 1, "topP": 0.95, "topK": 64, "maxOutputTokens": 65536, "stopSequences": ["<END>"],
            "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": true},
            "responseModalities": ["TEXT"],
            "mediaResolution": "MEDIA_RESOLUTION_HIGH"
          },
          "safetySettings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_NONE"}],
          "labels": {"team": "cli"}
        }
        """;
        var input = JsonNode.Parse(body)!.AsObject();
        var output = GeminiCodec.Instance.EncodeRequest(GeminiCodec.Instance.DecodeRequest(input), "gemini-3-pro-preview");
        JsonAssert.Equal(input, output);
    }
}
