using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class ResponseTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    internal static ChatRequest EchoRequest() => Codec.DecodeRequest(JsonNode.Parse("""
        {"model":"gemini-2.5-pro","instructions":"Be helpful.","input":"Weather in Paris?",
         "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"},"strict":false},{"type":"google_search"}],
         "reasoning":{"effort":"low","summary":"auto"},"max_output_tokens":500,"temperature":0.7,
         "store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"pk","metadata":{"a":"1"},
         "text":{"verbosity":"low"},"user":"u1"}
        """)!.AsObject());

    [Fact]
    public void Encodes_items_in_production_order_with_usage_grounding_and_request_echo()
    {
        var response = new ChatResponse
        {
            Id = "abc123",
            Model = "gemini-2.5-pro",
            Created = 1735689600,
            Choices =
            [
                new Choice
                {
                    Parts =
                    [
                        new ReasoningPart { Text = "Look it up.", Signature = "CiQBgemini", SignatureDialect = Dialect.Gemini },
                        new TextPart("Let me "),
                        new TextPart("check."),
                        new ToolCallPart { Id = "call_1", Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" },
                        new ToolCallPart { Id = "call_2", Name = "get_weather", Arguments = "{\"city\":\"Lyon\"}" },
                    ],
                    FinishReason = FinishReason.ToolCalls,
                    GroundingMetadata = JsonNode.Parse("""{"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://example.com","title":"example.com"}}]}"""),
                },
            ],
            Usage = new Usage { InputTokens = 120, CachedInputTokens = 20, OutputTokens = 60, ReasoningTokens = 15 },
        };

        var body = Codec.EncodeResponse(response, EchoRequest());

        JsonAssert.Equal("""
            {
              "id": "resp_abc123", "object": "response", "created_at": 1735689600, "status": "completed",
              "background": false, "error": null, "incomplete_details": null,
              "instructions": "Be helpful.", "max_output_tokens": 500, "model": "gemini-2.5-pro",
              "output": [
                {"id": "rs_abc123_0", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Look it up."}]},
                {"id": "msg_abc123_1", "type": "message", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Let me check."}]},
                {"id": "fc_call_1", "type": "function_call", "status": "completed", "arguments": "{\"city\":\"Paris\"}", "call_id": "call_1", "name": "get_weather"},
                {"id": "fc_call_2", "type": "function_call", "status": "completed", "arguments": "{\"city\":\"Lyon\"}", "call_id": "call_2", "name": "get_weather"}
              ],
              "parallel_tool_calls": true,
              "reasoning": {"effort": "low", "summary": "auto"},
              "temperature": 0.7, "top_p": null,
              "text": {"format": {"type": "text"}, "verbosity": "low"},
              "tool_choice": "auto",
              "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": false}, {"type": "google_search"}],
              "usage": {"input_tokens": 120, "input_tokens_details": {"cached_tokens": 20}, "output_tokens": 60,
                        "output_tokens_details": {"reasoning_tokens": 15}, "total_tokens": 180},
              "user": "u1", "store": false, "prompt_cache_key": "pk", "metadata": {"a": "1"},
              "grounding_metadata": {"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://example.com","title":"example.com"}}]}
            }
            """, body);
        Assert.False(body.ContainsKey("output_text"));
    }

    [Fact]
    public void Length_finish_is_an_incomplete_response()
    {
        var response = new ChatResponse
        {
            Id = "resp_x",
            Choices = [new Choice { Parts = [new TextPart("Once upon a")], FinishReason = FinishReason.Length }],
        };

        var body = Codec.EncodeResponse(response, EchoRequest());

        Assert.Equal("incomplete", (string?)body["status"]);
        JsonAssert.Equal("""{"reason":"max_output_tokens"}""", body["incomplete_details"]);
        Assert.Equal("incomplete", (string?)body["output"]![0]!["status"]);
        Assert.Equal("gemini-2.5-pro", (string?)body["model"]);
        Assert.Null(body["usage"]);
    }

    [Fact]
    public void Own_reasoning_signature_becomes_encrypted_content()
    {
        var response = new ChatResponse
        {
            Id = "resp_1",
            Choices = [new Choice { Parts = [new ReasoningPart { Signature = "gAAAAB+/==", SignatureDialect = Dialect.OpenAIResponses }], FinishReason = FinishReason.Stop }],
        };

        var item = Codec.EncodeResponse(response, EchoRequest())["output"]![0];

        JsonAssert.Equal("""{"id":"rs_1_0","type":"reasoning","summary":[],"encrypted_content":"gAAAAB+/=="}""", item);
    }

    internal const string UpstreamResponse = """
        {
          "id": "resp_68af", "object": "response", "created_at": 1756000000, "status": "completed",
          "model": "gpt-5-2025-08-07",
          "output": [
            {"id": "rs_68af_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Think A"}, {"type": "summary_text", "text": "Think B"}],
             "encrypted_content": "gAAAAABoSig+/=="},
            {"id": "msg_68af_2", "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "annotations": [], "text": "Calling tools."}]},
            {"id": "fc_68af_3", "type": "function_call", "status": "completed", "call_id": "call_a", "name": "read", "arguments": "{\"path\":\"a.txt\"}"},
            {"id": "fc_68af_4", "type": "function_call", "status": "completed", "call_id": "call_b", "name": "read", "arguments": ""},
            {"id": "ws_68af_5", "type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "x"}}
          ],
          "usage": {"input_tokens": 900, "input_tokens_details": {"cached_tokens": 512}, "output_tokens": 300,
                    "output_tokens_details": {"reasoning_tokens": 128}, "total_tokens": 1200}
        }
        """;

    [Fact]
    public void Decodes_an_upstream_response()
    {
        var response = Codec.DecodeResponse(JsonNode.Parse(UpstreamResponse)!);

        Assert.Equal(("resp_68af", "gpt-5-2025-08-07", 1756000000L), (response.Id, response.Model, response.Created));
        var choice = Assert.Single(response.Choices);
        Assert.Equal(FinishReason.ToolCalls, choice.FinishReason);
        Assert.Equal("completed", choice.NativeFinishReason);
        var reasoning = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal("Think A\n\nThink B", reasoning.Text);
        Assert.Equal(("gAAAAABoSig+/==", Dialect.OpenAIResponses), (reasoning.Signature, reasoning.SignatureDialect));
        Assert.Equal("Calling tools.", Assert.IsType<TextPart>(choice.Parts[1]).Text);
        var first = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.Equal(("call_a", "read", "{\"path\":\"a.txt\"}"), (first.Id, first.Name, first.Arguments));
        Assert.Equal("{}", Assert.IsType<ToolCallPart>(choice.Parts[3]).Arguments);
        Assert.Equal("web_search_call", (string?)Assert.IsType<NativePart>(choice.Parts[4]).Json["type"]);
        var usage = response.Usage!;
        Assert.Equal((900L, 512L, 300L, 128L, 1200L), (usage.InputTokens, usage.CachedInputTokens, usage.OutputTokens, usage.ReasoningTokens, usage.Total));
    }

    [Fact]
    public void Decode_then_encode_keeps_upstream_items()
    {
        var decoded = Codec.DecodeResponse(JsonNode.Parse(UpstreamResponse)!);

        var output = Codec.EncodeResponse(decoded, EchoRequest())["output"];

        JsonAssert.Equal("""
            [
              {"id":"rs_68af_1","type":"reasoning","summary":[{"type":"summary_text","text":"Think A"},{"type":"summary_text","text":"Think B"}],"encrypted_content":"gAAAAABoSig+/=="},
              {"id":"msg_68af_2","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Calling tools."}],"role":"assistant"},
              {"id":"fc_68af_3","type":"function_call","status":"completed","arguments":"{\"path\":\"a.txt\"}","call_id":"call_a","name":"read"},
              {"id":"fc_68af_4","type":"function_call","status":"completed","arguments":"{}","call_id":"call_b","name":"read"},
              {"id":"ws_68af_5","type":"web_search_call","status":"completed","action":{"type":"search","query":"x"}}
            ]
            """, output);
    }

    [Theory]
    [InlineData("max_output_tokens", FinishReason.Length)]
    [InlineData("content_filter", FinishReason.ContentFilter)]
    public void Decodes_incomplete_responses(string reason, FinishReason expected)
    {
        var response = Codec.DecodeResponse(JsonNode.Parse($$"""
            {"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"{{reason}}"},
             "output":[{"type":"message","content":[{"type":"output_text","text":"partial"}]}]}
            """)!);

        Assert.Equal(expected, response.Choices[0].FinishReason);
        Assert.Equal(reason, response.Choices[0].NativeFinishReason);
    }

    [Fact]
    public void A_failed_upstream_response_throws()
    {
        var error = Assert.Throws<UpstreamException>(() => Codec.DecodeResponse(JsonNode.Parse("""
            {"id":"resp_1","status":"failed","error":{"code":"server_error","message":"The model crashed"},"output":[]}
            """)!));

        Assert.Equal((FailureKind.Transient, 502, "The model crashed"), (error.Kind, error.StatusCode, error.Message));
    }

    [Fact]
    public void Content_filter_finish_is_incomplete_with_its_reason()
    {
        var response = new ChatResponse { Id = "r", Choices = [new Choice { Parts = [new TextPart("…")], FinishReason = FinishReason.ContentFilter }] };

        var body = Codec.EncodeResponse(response, EchoRequest());

        Assert.Equal("incomplete", (string?)body["status"]);
        Assert.Equal("content_filter", (string?)body["incomplete_details"]!["reason"]);
    }
}
