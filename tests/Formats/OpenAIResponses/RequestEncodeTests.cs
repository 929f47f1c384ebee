using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class RequestEncodeTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    [Fact]
    public void Encodes_a_canonical_request_from_another_dialect()
    {
        var request = new ChatRequest
        {
            Model = "claude-alias",
            System = [new TextPart("You are terse."), new TextPart("Use tools when useful.")],
            Messages =
            [
                new Message(Role.User, new TextPart("Weather in Oslo?"), new ImagePart { MediaType = "image/jpeg", Data = "/9j/4AAQ" }),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "Anthropic thinking", Signature = "EqQBCkYI", SignatureDialect = Dialect.Anthropic },
                    new TextPart("Checking."),
                    new ToolCallPart { Id = "toolu_01", Name = "get_weather", Arguments = "{\"city\":\"Oslo\"}" }),
                new Message(Role.Tool,
                    new ToolResultPart { ToolCallId = "toolu_01", Name = "get_weather", Content = [new TextPart("-3°C")] }),
            ],
            Tools =
            [
                new ToolDefinition { Name = "get_weather", Description = "Weather", Parameters = JsonNode.Parse("""{"type":"object","properties":{"city":{"type":"string"}}}""") },
                new ToolDefinition { Kind = ToolKind.Native, NativeDialect = Dialect.Anthropic, Name = "web_search", Config = JsonNode.Parse("""{"type":"web_search_20250305","name":"web_search","max_uses":3}""") },
                new ToolDefinition { Kind = ToolKind.Native, NativeDialect = Dialect.Gemini, Name = "x", Config = JsonNode.Parse("{}") },
            ],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, Name = "get_weather" },
            Reasoning = new ReasoningConfig { BudgetTokens = 8192, IncludeThoughts = true },
            Sampling = new SamplingOptions { Temperature = 0.5, MaxOutputTokens = 1000, TopK = 40, StopSequences = ["END"] },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject },
            Stream = true,
            Extensions = new JsonObject { ["anthropic.metadata"] = new JsonObject { ["user_id"] = "u" } },
        };

        var body = Codec.EncodeRequest(request, "gpt-5");

        JsonAssert.Equal("""
            {
              "model": "gpt-5",
              "instructions": "You are terse.\n\nUse tools when useful.",
              "input": [
                {"type": "message", "role": "user", "content": [
                  {"type": "input_text", "text": "Weather in Oslo?"},
                  {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ"}
                ]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
                {"type": "function_call", "call_id": "toolu_01", "name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"},
                {"type": "function_call_output", "call_id": "toolu_01", "output": "-3°C"}
              ],
              "tools": [
                {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type":"object","properties":{"city":{"type":"string"}}}, "strict": false},
                {"type": "web_search"}
              ],
              "tool_choice": {"type": "function", "name": "get_weather"},
              "reasoning": {"effort": "medium", "summary": "auto"},
              "max_output_tokens": 1000,
              "temperature": 0.5,
              "text": {"format": {"type": "json_object"}},
              "stream": true
            }
            """, body);
    }

    [Fact]
    public void Forwards_only_its_own_reasoning_signature_byte_exact()
    {
        const string signature = "gAAAAABo+/x==\u003c\u0026\u00e9";
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.User, new TextPart("hi")),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "Plan", Signature = signature, SignatureDialect = Dialect.OpenAIResponses },
                    new ReasoningPart { Text = "Gemini thought", Signature = "CiQB", SignatureDialect = Dialect.Gemini },
                    new TextPart("Hello")),
            ],
        };

        var body = Codec.EncodeRequest(request, "gpt-5");

        JsonAssert.Equal($$"""
            [
              {"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]},
              {"type":"reasoning","summary":[{"type":"summary_text","text":"Plan"}],"encrypted_content":"{{signature}}"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello"}]}
            ]
            """, body["input"]);
        Assert.Contains("\"encrypted_content\":\"gAAAAABo+/x==<&é\"", PluginProxy.Formats.Json.JsonText.Serialize(body));
    }

    [Fact]
    public void Round_trip_of_a_realistic_request_is_identity()
    {
        // The fixture is already in the normal form (typed items, array content, explicit strict).
        var original = JsonNode.Parse(RequestDecodeTests.ToolLoopBody)!.AsObject();

        var request = Codec.DecodeRequest(original);
        var encoded = Codec.EncodeRequest(request, "gpt-5-codex");

        JsonAssert.Equal(original, encoded);
    }

    [Fact]
    public void Round_trip_keeps_codex_items_and_fields()
    {
        var original = JsonNode.Parse("""
            {
              "model": "gpt-5.1-codex",
              "instructions": "You are Codex.",
              "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "sandbox"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ctx"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}], "encrypted_content": "enc"},
                {"type": "custom_tool_call", "status": "completed", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch"},
                {"type": "custom_tool_call_output", "call_id": "c1", "output": "ok"},
                {"type": "function_call", "name": "search", "namespace": "mcp__docs", "arguments": "{}", "call_id": "c2"},
                {"type": "function_call_output", "call_id": "c2", "output": "found"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}, {"type": "refusal", "refusal": "no"}]}
              ],
              "tools": [
                {"type": "namespace", "name": "mcp__docs", "tools": [{"type": "function", "name": "search", "parameters": {"type": "object"}}]},
                {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}}
              ],
              "tool_choice": "auto",
              "parallel_tool_calls": false,
              "reasoning": {"summary": "auto"},
              "store": false,
              "stream": true,
              "include": ["reasoning.encrypted_content"],
              "prompt_cache_key": "k",
              "client_metadata": {"a": "b"}
            }
            """)!.AsObject();

        var encoded = Codec.EncodeRequest(Codec.DecodeRequest(original), "gpt-5.1-codex");

        JsonAssert.Equal(original, encoded);
    }

    /// <summary>The documented normalisations: typed items, array content, explicit non-strict functions.</summary>
    [Fact]
    public void Round_trip_normalises_shorthand_forms()
    {
        var encoded = Codec.EncodeRequest(Codec.DecodeRequest(JsonNode.Parse("""
            {"model":"m","input":[{"role":"user","content":"hi"}],
             "tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"stream":false}
            """)!.AsObject()), "m");

        JsonAssert.Equal("""
            {"model":"m","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}],
             "tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":false}]}
            """, encoded);
    }

    [Fact]
    public void Tool_results_with_images_and_error_flags_encode_as_content_arrays()
    {
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.Tool,
                    new ToolResultPart
                    {
                        ToolCallId = "call_1",
                        Content = [new TextPart("chart:"), new ImagePart { MediaType = "image/png", Data = "AAAA" }],
                    },
                    new ToolResultPart { ToolCallId = "call_2" }),
                new Message(Role.User, new DocumentPart { MediaType = "application/pdf", Data = "JVBE" }),
            ],
        };

        JsonAssert.Equal("""
            [
              {"type":"function_call_output","call_id":"call_1","output":[{"type":"input_text","text":"chart:"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},
              {"type":"function_call_output","call_id":"call_2","output":""},
              {"type":"message","role":"user","content":[{"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"document"}]}
            ]
            """, Codec.EncodeRequest(request, "m")["input"]);
    }
}
