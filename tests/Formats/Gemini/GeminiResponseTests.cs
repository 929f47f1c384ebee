using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Gemini;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

public sealed class GeminiResponseTests
{
    private const string Grounding = """
        {"webSearchQueries":["paris weather"],"searchEntryPoint":{"renderedContent":"<div>…</div>"},
         "groundingChunks":[{"web":{"uri":"https://example.com/w","title":"example.com"}}],
         "groundingSupports":[{"segment":{"startIndex":0,"endIndex":15,"text":"Paris is sunny."},"groundingChunkIndices":[0],"confidenceScores":[0.9]}]}
        """;

    private static readonly string UpstreamBody = $$$"""
        {
          "candidates": [{
            "content": {"role": "model", "parts": [
              {"text": "Looking it up.", "thought": true, "thoughtSignature": "Sig+/=ü"},
              {"text": "Paris is sunny."},
              {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "call-sig"},
              {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}}
            ]},
            "finishReason": "STOP",
            "index": 0,
            "groundingMetadata": {{{Grounding}}},
            "urlContextMetadata": {"urlMetadata": [{"retrievedUrl": "https://example.com/w", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}]}
          }],
          "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 150, "cachedContentTokenCount": 40, "thoughtsTokenCount": 30},
          "modelVersion": "gemini-2.5-pro",
          "responseId": "resp-abc",
          "createTime": "2025-08-15T02:52:03.884209Z"
        }
        """;

    [Fact]
    public void Decodes_parts_finish_usage_and_grounding()
    {
        var response = GeminiCodec.Instance.DecodeResponse(JsonNode.Parse(UpstreamBody)!);

        Assert.Equal(("resp-abc", "gemini-2.5-pro"), (response.Id, response.Model));
        Assert.Equal(DateTimeOffset.Parse("2025-08-15T02:52:03Z").ToUnixTimeSeconds(), response.Created);
        var choice = Assert.Single(response.Choices);
        var thought = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal(("Looking it up.", "Sig+/=ü", Dialect.Gemini), (thought.Text, thought.Signature, thought.SignatureDialect!.Value));
        Assert.Equal("Paris is sunny.", Assert.IsType<TextPart>(choice.Parts[1]).Text);
        var call = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.StartsWith("call_", call.Id);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(("call-sig", Dialect.Gemini), (call.Signature, call.SignatureDialect));
        Assert.Null(call.Extensions);
        var image = Assert.IsType<ImagePart>(choice.Parts[3]);
        Assert.Equal(("image/png", "iVBOR"), (image.MediaType, image.Data));
        Assert.Equal(FinishReason.ToolCalls, choice.FinishReason);
        Assert.Equal("STOP", choice.NativeFinishReason);
        JsonAssert.Equal(Grounding, choice.GroundingMetadata);
        JsonAssert.Equal("""{"urlMetadata":[{"retrievedUrl":"https://example.com/w","urlRetrievalStatus":"URL_RETRIEVAL_STATUS_SUCCESS"}]}""",
            response.Extensions["gemini.candidates.0.urlContextMetadata"]);

        var usage = response.Usage!;
        Assert.Equal((100L, 50L, 40L, 30L, 150L), (usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens, usage.ReasoningTokens, usage.TotalTokens!.Value));
    }

    [Fact]
    public void Round_trips_an_upstream_body()
    {
        var upstream = JsonNode.Parse(UpstreamBody)!.AsObject();
        var response = GeminiCodec.Instance.DecodeResponse(upstream);
        var encoded = GeminiCodec.Instance.EncodeResponse(response, new ChatRequest { Model = "gemini-2.5-pro" });

        // The generated call id is added; createTime keeps whole seconds.
        var call = encoded["candidates"]![0]!["content"]!["parts"]![2]!["functionCall"]!.AsObject();
        Assert.Equal(((ToolCallPart)response.Choices[0].Parts[2]).Id, call["id"]!.GetValue<string>());
        call.Remove("id");
        upstream["createTime"] = "2025-08-15T02:52:03Z";
        JsonAssert.Equal(upstream, encoded);
    }

    [Fact]
    public void Encodes_a_canonical_answer_from_another_dialect()
    {
        var response = new ChatResponse
        {
            Id = "msg_01",
            Model = "claude-sonnet-4-5",
            Created = 1735689600,
            Choices =
            [
                new Choice
                {
                    Parts =
                    [
                        new ReasoningPart { Text = "hmm", Signature = "anthropic", SignatureDialect = Dialect.Anthropic },
                        new TextPart("Hello"),
                        new ToolCallPart { Id = "toolu_1", Name = "lookup", Arguments = """{"q":"x"}""" },
                    ],
                    FinishReason = FinishReason.ToolCalls,
                    NativeFinishReason = "tool_use",
                },
            ],
            Usage = new Usage { InputTokens = 10, OutputTokens = 7, ReasoningTokens = 3, CachedInputTokens = 4 },
        };

        JsonAssert.Equal("""
        {
          "candidates": [{
            "content": {"role": "model", "parts": [
              {"text": "hmm", "thought": true},
              {"text": "Hello"},
              {"functionCall": {"name": "lookup", "args": {"q": "x"}, "id": "toolu_1"}}
            ]},
            "finishReason": "STOP",
            "index": 0
          }],
          "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 17, "cachedContentTokenCount": 4, "thoughtsTokenCount": 3},
          "modelVersion": "claude-sonnet-4-5",
          "responseId": "msg_01",
          "createTime": "2025-01-01T00:00:00Z"
        }
        """, GeminiCodec.Instance.EncodeResponse(response, new ChatRequest()));
    }

    [Fact]
    public void Hides_thought_text_when_the_client_did_not_ask_for_it_but_keeps_gemini_signatures()
    {
        var response = new ChatResponse
        {
            Id = "r",
            Choices =
            [
                new Choice
                {
                    Parts =
                    [
                        new ReasoningPart { Text = "secret", Signature = "gsig", SignatureDialect = Dialect.Gemini },
                        new ReasoningPart { Text = "other", Signature = "asig", SignatureDialect = Dialect.Anthropic },
                        new TextPart("answer"),
                    ],
                    FinishReason = FinishReason.Stop,
                },
            ],
        };
        var request = new ChatRequest { Model = "m", Reasoning = new ReasoningConfig { BudgetTokens = 1024, IncludeThoughts = false } };

        var body = GeminiCodec.Instance.EncodeResponse(response, request);
        JsonAssert.Equal("""[{"text":"","thought":true,"thoughtSignature":"gsig"},{"text":"answer"}]""", body["candidates"]![0]!["content"]!["parts"]);
        Assert.Equal("m", body["modelVersion"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("STOP", false, FinishReason.Stop)]
    [InlineData("STOP", true, FinishReason.ToolCalls)]
    [InlineData("MAX_TOKENS", false, FinishReason.Length)]
    [InlineData("SAFETY", false, FinishReason.ContentFilter)]
    [InlineData("RECITATION", false, FinishReason.ContentFilter)]
    [InlineData("PROHIBITED_CONTENT", false, FinishReason.ContentFilter)]
    [InlineData("MALFORMED_FUNCTION_CALL", false, FinishReason.Other)]
    public void Maps_finish_reasons_from_gemini(string native, bool withCall, FinishReason expected)
    {
        var part = withCall ? """{"functionCall":{"name":"f","args":{}}}""" : """{"text":"x"}""";
        var response = GeminiCodec.Instance.DecodeResponse(JsonNode.Parse($$$"""{"candidates":[{"content":{"parts":[{{{part}}}]},"finishReason":"{{{native}}}"}]}""")!);
        Assert.Equal(expected, response.Choices[0].FinishReason);
        Assert.Equal(native, response.Choices[0].NativeFinishReason);
    }

    [Theory]
    [InlineData(FinishReason.Stop, null, "STOP")]
    [InlineData(FinishReason.ToolCalls, "tool_calls", "STOP")]
    [InlineData(FinishReason.StopSequence, "stop_sequence", "STOP")]
    [InlineData(FinishReason.Length, "max_tokens", "MAX_TOKENS")]
    [InlineData(FinishReason.ContentFilter, "content_filter", "SAFETY")]
    [InlineData(FinishReason.ContentFilter, "RECITATION", "RECITATION")]
    [InlineData(FinishReason.Other, "MALFORMED_FUNCTION_CALL", "MALFORMED_FUNCTION_CALL")]
    [InlineData(FinishReason.Other, "pause_turn", "OTHER")]
    public void Maps_finish_reasons_to_gemini(FinishReason reason, string? native, string expected)
    {
        var response = new ChatResponse { Choices = [new Choice { FinishReason = reason, NativeFinishReason = native }] };
        Assert.Equal(expected, GeminiCodec.Instance.EncodeResponse(response, new ChatRequest())["candidates"]![0]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public void A_blocked_prompt_becomes_a_content_filtered_choice()
    {
        var response = GeminiCodec.Instance.DecodeResponse(JsonNode.Parse("""
            {"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}
            """)!);
        var choice = Assert.Single(response.Choices);
        Assert.Equal((FinishReason.ContentFilter, "SAFETY"), (choice.FinishReason!.Value, choice.NativeFinishReason));
        Assert.Equal(8, response.Usage!.InputTokens);
    }

    [Fact]
    public void Multiple_candidates_keep_their_indexes()
    {
        var response = GeminiCodec.Instance.DecodeResponse(JsonNode.Parse("""
            {"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}]}
            """)!);
        Assert.Equal([0, 1], response.Choices.Select(c => c.Index));
        Assert.Equal(FinishReason.Length, response.Choices[1].FinishReason);
    }

    [Fact]
    public void Unwraps_cloud_code_responses_and_throws_on_error_bodies()
    {
        var wrapped = GeminiCodec.Instance.DecodeResponse(JsonNode.Parse("""{"response":{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}}""")!);
        Assert.Equal("hi", ((TextPart)wrapped.Choices[0].Parts[0]).Text);

        var error = Assert.Throws<UpstreamException>(() => GeminiCodec.Instance.DecodeResponse(JsonNode.Parse(
            """{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}""")!));
        Assert.Equal((FailureKind.Quota, 429, "Resource has been exhausted"), (error.Kind, error.StatusCode, error.Message));
    }

    [Fact]
    public void Malformed_upstream_parts_are_upstream_failures()
    {
        var error = Assert.Throws<UpstreamException>(() => GeminiCodec.Instance.DecodeResponse(JsonNode.Parse(
            """{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}""")!));
        Assert.Equal(502, error.StatusCode);
        Assert.Contains("functionCall.name", error.Message);
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(401, "UNAUTHENTICATED")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(404, "NOT_FOUND")]
    [InlineData(429, "RESOURCE_EXHAUSTED")]
    [InlineData(500, "INTERNAL")]
    [InlineData(502, "INTERNAL")]
    [InlineData(503, "UNAVAILABLE")]
    public void Error_bodies_use_googles_shape(int status, string name)
    {
        JsonAssert.Equal($$$"""{"error":{"code":{{{status}}},"message":"boom","status":"{{{name}}}"}}""", GeminiCodec.Instance.EncodeError(status, "boom"));
    }

    [Fact]
    public void Error_codes_travel_as_error_info()
    {
        JsonAssert.Equal("""
            {"error":{"code":429,"message":"cooling down","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"model_cooldown"}]}}
            """, GeminiCodec.Instance.EncodeError(429, "cooling down", "model_cooldown"));
    }

    [Fact]
    public void Token_count_shape()
    {
        JsonAssert.Equal("""{"totalTokens":1234}""", GeminiCodec.Instance.EncodeTokenCount(1234));
    }
    [Fact]
    public void A_malformed_part_in_an_answer_is_a_502_naming_it()
    {
        var upstream = JsonNode.Parse("""{"candidates":[{"content":{"parts":[{"text":"a"},{"functionCall":{"args":{}}}]}}]}""")!;

        var error = Assert.Throws<PluginProxy.Abstractions.Upstream.UpstreamException>(() => GeminiCodec.Instance.DecodeResponse(upstream));

        Assert.Equal(502, error.StatusCode);
        Assert.Contains("Gemini answer is malformed: candidates[0].content.parts[1].functionCall.name is required", error.Message);
    }

    [Fact]
    public void Answer_calls_keep_the_upstreams_id_and_get_one_when_it_has_none()
    {
        var upstream = JsonNode.Parse("""{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","id":"call-7","args":{"a":1}}},{"functionCall":{"name":"g"}}]}}]}""")!;

        var parts = GeminiCodec.Instance.DecodeResponse(upstream).Choices[0].Parts.Cast<ToolCallPart>().ToList();

        Assert.Equal("call-7", parts[0].Id);
        Assert.Equal("""{"a":1}""", parts[0].Arguments);
        Assert.False(string.IsNullOrEmpty(parts[1].Id));
        Assert.Equal("{}", parts[1].Arguments);
    }

    private static readonly string KeptBody = $$$"""
        {
          "candidates": [{
            "content": {"role": "model", "parts": [
              {"text": "Checking the sky.", "thought": true, "thoughtSignature": "thought-sig"},
              {"text": "Paris is sunny.", "thoughtSignature": "text-sig"},
              {"functionCall": {"id": "call-7", "name": "get_weather", "args": {"city": "Paris", "days": [1, 2.50]}}, "thoughtSignature": "call-sig"},
              {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
            ]},
            "finishReason": "STOP",
            "index": 0,
            "groundingMetadata": {{{Grounding}}},
            "citationMetadata": {"citations": [{"startIndex": 0, "endIndex": 5, "uri": "https://example.com/c"}]}
          }],
          "promptFeedback": {"safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]},
          "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 150, "cachedContentTokenCount": 40, "thoughtsTokenCount": 30},
          "modelVersion": "gemini-2.5-pro",
          "responseId": "resp-kept",
          "createTime": "2025-08-15T02:52:03Z"
        }
        """;

    /// <summary>
    /// The SDK disposes the pooled document right after decoding: anything the response kept over it (a string, the
    /// grounding, a native part, an extension) would throw ObjectDisposedException or read reused memory later.
    /// </summary>
    [Fact]
    public void The_response_outlives_the_disposed_document()
    {
        // The Code Assist envelope is unwrapped from the same document.
        var wrapped = $$"""{"response": {{KeptBody}}}""";
        ChatResponse response;
        using (var document = JsonDocument.Parse(wrapped)) response = GeminiCodec.Instance.DecodeResponse(document.RootElement);
        // Reuse the pool the document returned its buffers to, so stale references would see other bytes.
        using (JsonDocument.Parse(wrapped.Replace("Paris", "Lyon").Replace("sig", "XYZ"))) { }

        Assert.Equal(("resp-kept", "gemini-2.5-pro"), (response.Id, response.Model));
        var choice = Assert.Single(response.Choices);
        var thought = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal(("Checking the sky.", "thought-sig"), (thought.Text, thought.Signature));
        var text = Assert.IsType<TextPart>(choice.Parts[1]);
        Assert.Equal("Paris is sunny.", text.Text);
        Assert.Equal("text-sig", (string?)text.Extensions![GeminiMapping.SignatureKey]);
        var call = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.Equal(("call-7", "get_weather", """{"city":"Paris","days":[1,2.50]}""", "call-sig"), (call.Id, call.Name, call.Arguments, call.Signature));
        var native = Assert.IsType<NativePart>(choice.Parts[3]);
        JsonAssert.Equal("""{"executableCode":{"language":"PYTHON","code":"print(1)"}}""", native.Json);
        JsonAssert.Equal(Grounding, choice.GroundingMetadata);
        Assert.Equal("https://example.com/w", (string?)choice.GroundingMetadata!["groundingChunks"]![0]!["web"]!["uri"]);
        JsonAssert.Equal("""{"citations":[{"startIndex":0,"endIndex":5,"uri":"https://example.com/c"}]}""",
            response.Extensions["gemini.candidates.0.citationMetadata"]);
        Assert.Equal("NEGLIGIBLE", (string?)response.Extensions["gemini.promptFeedback"]!["safetyRatings"]![0]!["probability"]);
        var usage = response.Usage!;
        Assert.Equal((100L, 50L, 40L, 30L, 150L), (usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens, usage.ReasoningTokens, usage.TotalTokens!.Value));

        // Written back out, everything kept is the upstream's answer, byte for byte in meaning.
        var encoded = GeminiCodec.Instance.EncodeResponse(response, new ChatRequest { Model = "gemini-2.5-pro" });
        JsonAssert.Equal(JsonNode.Parse(KeptBody), encoded);
    }

    [Fact]
    public void Error_bodies_decode_to_the_same_failure_from_an_element_and_a_node()
    {
        const string body = """{"response":{"error":{"code":"503","message":"The model is overloaded.","status":"UNAVAILABLE"}}}""";
        UpstreamException fromElement;
        using (var document = JsonDocument.Parse(body))
            fromElement = Assert.Throws<UpstreamException>(() => GeminiCodec.Instance.DecodeResponse(document.RootElement));
        var fromNode = Assert.Throws<UpstreamException>(() => GeminiCodec.Instance.DecodeResponse(JsonNode.Parse(body)!));

        Assert.Equal((FailureKind.Transient, 503, "The model is overloaded."), (fromElement.Kind, fromElement.StatusCode, fromElement.Message));
        Assert.Equal((fromNode.Kind, fromNode.StatusCode, fromNode.Message), (fromElement.Kind, fromElement.StatusCode, fromElement.Message));
        Assert.Equal("""{"error":{"code":"503","message":"The model is overloaded.","status":"UNAVAILABLE"}}""", fromElement.Body);
    }
}
