using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class ResponseTests
{
    private const string GroundingJson = """
        {"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://weather.example/paris","title":"weather.example"}}],
         "groundingSupports":[{"segment":{"startIndex":0,"endIndex":15,"text":"Paris is sunny."},"groundingChunkIndices":[0],"confidenceScores":[0.9]}]}
        """;

    private static string WithGrounding(string json) => json.Replace("\"GROUNDING\"", GroundingJson);

    [Fact]
    public void DecodesUpstreamCompletionWithReasoningToolCallsAndUsage()
    {
        var response = OpenAIChatCodec.Instance.DecodeResponse(JsonNode.Parse("""
            {"id":"chatcmpl-9x","object":"chat.completion","created":1735689600,"model":"gpt-4.1-2025-04-14","system_fingerprint":"fp_1",
             "choices":[{"index":0,"logprobs":null,"finish_reason":"tool_calls",
               "message":{"role":"assistant","content":"Let me check.","refusal":null,"annotations":[],"reasoning_content":"Need weather.",
                 "tool_calls":[
                   {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                   {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}}],
             "usage":{"prompt_tokens":120,"completion_tokens":45,"total_tokens":165,
               "prompt_tokens_details":{"cached_tokens":100,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":20}}}
            """)!);

        Assert.Equal(("chatcmpl-9x", "gpt-4.1-2025-04-14", 1735689600L), (response.Id, response.Model, response.Created));
        var choice = Assert.Single(response.Choices);
        Assert.Equal((FinishReason.ToolCalls, "tool_calls"), (choice.FinishReason!.Value, choice.NativeFinishReason));
        Assert.Equal(5, choice.Parts.Count);
        Assert.Equal("Need weather.", Assert.IsType<ReasoningPart>(choice.Parts[0]).Text);
        Assert.Equal("Let me check.", Assert.IsType<TextPart>(choice.Parts[1]).Text);
        var first = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.Equal(("call_a", "get_weather", """{"city":"Paris"}"""), (first.Id, first.Name, first.Arguments));
        Assert.Equal("{}", Assert.IsType<ToolCallPart>(choice.Parts[3]).Arguments);
        var native = Assert.IsType<NativePart>(choice.Parts[4]);
        JsonAssert.Equal("""{"annotations":[]}""", native.Json);
        var usage = response.Usage!;
        Assert.Equal((120L, 45L, 165L, 100L, 20L), (usage.InputTokens, usage.OutputTokens, usage.TotalTokens, usage.CachedInputTokens, usage.ReasoningTokens));
        JsonAssert.Equal("""{"openai.system_fingerprint":"fp_1"}""", response.Extensions);
    }

    [Fact]
    public void An_answer_decoded_in_place_keeps_nothing_of_its_document()
    {
        // The SDK decodes from a pooled document over the answer's buffer and disposes both right after the call.
        var bytes = System.Text.Encoding.UTF8.GetBytes(WithGrounding("""
            {"id":"chatcmpl-d","created":7,"model":"m","system_fingerprint":{"fp":1.50},
             "choices":[{"index":0,"finish_reason":"tool_calls","grounding_metadata":"GROUNDING",
               "message":{"role":"assistant","content":"Hé","refusal":"no","annotations":[{"n":2.0}],
                 "thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig"}],
                 "images":[{"image_url":{"url":"data:image/png;base64,iVBO"}}],
                 "tool_calls":[{"id":"call_x","function":{"name":"f","arguments":{"q":"é"}}}]}}],
             "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":1}}}
            """));
        ChatResponse response;
        using (var document = System.Text.Json.JsonDocument.Parse(bytes)) response = OpenAIChatCodec.Instance.DecodeResponse(document.RootElement);
        bytes.AsSpan().Fill((byte)'#');

        Assert.Equal(("chatcmpl-d", "m", 7L), (response.Id, response.Model, response.Created));
        JsonAssert.Equal("""{"fp":1.50}""", response.Extensions["openai.system_fingerprint"]);
        Assert.Equal((3L, 4L, 7L, 1L), (response.Usage!.InputTokens, response.Usage.OutputTokens, response.Usage.TotalTokens!.Value, response.Usage.CachedInputTokens));
        var choice = Assert.Single(response.Choices);
        JsonAssert.Equal(GroundingJson, choice.GroundingMetadata);
        Assert.Equal(5, choice.Parts.Count);
        var reasoning = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal(("hmm", "sig"), (reasoning.Text, reasoning.Signature));
        Assert.Equal("Hé", Assert.IsType<TextPart>(choice.Parts[1]).Text);
        var image = Assert.IsType<ImagePart>(choice.Parts[2]);
        Assert.Equal(("image/png", "iVBO"), (image.MediaType, image.Data));
        var call = Assert.IsType<ToolCallPart>(choice.Parts[3]);
        Assert.Equal(("call_x", "f", """{"q":"é"}"""), (call.Id, call.Name, call.Arguments));
        JsonAssert.Equal("""{"refusal":"no","annotations":[{"n":2.0}]}""", Assert.IsType<NativePart>(choice.Parts[4]).Json);
    }

    [Fact]
    public void EncodesAnswerWithToolCallsImagesGroundingAndUsage()
    {
        var response = new ChatResponse
        {
            Id = "resp-1",
            Model = "gemini-2.5-flash-image",
            Created = 1735689600,
            Choices =
            [
                new Choice
                {
                    Parts =
                    [
                        new ReasoningPart { Text = "Plan.", Signature = "gemini-sig", SignatureDialect = Dialect.Gemini },
                        new TextPart("Paris is "),
                        new TextPart("sunny."),
                        new ImagePart { MediaType = "image/png", Data = "iVBORw0KGgo=" },
                        new ToolCallPart { Id = "call_1", Name = "save", Arguments = """{"ok":true}""" },
                        new NativePart(Dialect.Gemini, JsonNode.Parse("""{"executableCode":{}}""")!),
                    ],
                    // Gemini says STOP even when it calls a function; chat clients need "tool_calls".
                    FinishReason = FinishReason.Stop,
                    GroundingMetadata = JsonNode.Parse(GroundingJson),
                },
            ],
            Usage = new Usage { InputTokens = 50, OutputTokens = 30, CachedInputTokens = 10, ReasoningTokens = 12 },
        };

        var body = OpenAIChatCodec.Instance.EncodeResponse(response, new ChatRequest { Model = "client-model" });

        JsonAssert.Equal(WithGrounding("""
            {"id":"resp-1","object":"chat.completion","created":1735689600,"model":"gemini-2.5-flash-image",
             "choices":[{"index":0,
               "message":{"role":"assistant","content":"Paris is sunny.","reasoning_content":"Plan.",
                 "tool_calls":[{"id":"call_1","type":"function","function":{"name":"save","arguments":"{\"ok\":true}"}}],
                 "images":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
               "finish_reason":"tool_calls","logprobs":null,"grounding_metadata":"GROUNDING"}],
             "usage":{"prompt_tokens":50,"completion_tokens":30,"total_tokens":80,
               "prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":12}}}
            """), body);
    }

    [Fact]
    public void EmptyIdsAndModelAreFilledAndMissingTextIsEmptyString()
    {
        var body = OpenAIChatCodec.Instance.EncodeResponse(
            new ChatResponse { Choices = [new Choice { FinishReason = FinishReason.Length }] },
            new ChatRequest { Model = "asked-model" });

        Assert.StartsWith("chatcmpl-", body["id"]!.GetValue<string>());
        Assert.True(body["created"]!.GetValue<long>() > 1_700_000_000);
        Assert.Equal("asked-model", body["model"]!.GetValue<string>());
        JsonAssert.Equal("""{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"length","logprobs":null}""", body["choices"]![0]);
        Assert.False(body.ContainsKey("usage"));
    }

    [Theory]
    [InlineData(FinishReason.Stop, "stop")]
    [InlineData(FinishReason.Length, "length")]
    [InlineData(FinishReason.ToolCalls, "tool_calls")]
    [InlineData(FinishReason.ContentFilter, "content_filter")]
    [InlineData(FinishReason.StopSequence, "stop")]
    [InlineData(FinishReason.Other, "stop")]
    [InlineData(null, "stop")]
    public void FinishReasonEncoding(FinishReason? reason, string expected)
    {
        var body = OpenAIChatCodec.Instance.EncodeResponse(
            new ChatResponse { Id = "x", Choices = [new Choice { Parts = [new TextPart("t")], FinishReason = reason }] }, new ChatRequest());
        Assert.Equal(expected, body["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("stop", FinishReason.Stop)]
    [InlineData("length", FinishReason.Length)]
    [InlineData("max_tokens", FinishReason.Length)]
    [InlineData("tool_calls", FinishReason.ToolCalls)]
    [InlineData("function_call", FinishReason.ToolCalls)]
    [InlineData("content_filter", FinishReason.ContentFilter)]
    [InlineData("recitation", FinishReason.Other)]
    public void FinishReasonDecoding(string wire, FinishReason expected)
    {
        var response = OpenAIChatCodec.Instance.DecodeResponse(Parse($$"""{"choices":[{"index":0,"message":{"content":"x"},"finish_reason":"{{wire}}"}]}"""));
        Assert.Equal(expected, response.Choices[0].FinishReason);
        Assert.Equal(wire, response.Choices[0].NativeFinishReason);
    }

    [Fact]
    public void ResponseRoundTripsThroughCanonical()
    {
        var json = WithGrounding("""
            {"id":"chatcmpl-rt","object":"chat.completion","created":1735689600,"model":"gpt-4o","service_tier":"default",
             "choices":[
               {"index":0,"message":{"role":"assistant","content":"Hi","reasoning_content":"r",
                 "thinking_blocks":[{"type":"thinking","thinking":"r","signature":"EqQB+/=="}],"annotations":[]},
                "finish_reason":"stop","logprobs":null,"grounding_metadata":"GROUNDING"},
               {"index":1,"message":{"role":"assistant","content":null,
                 "tool_calls":[{"id":"call_9","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
                "finish_reason":"tool_calls","logprobs":null}],
             "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,
               "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":1}}}
            """);

        var response = OpenAIChatCodec.Instance.DecodeResponse(JsonNode.Parse(json)!);
        var encoded = OpenAIChatCodec.Instance.EncodeResponse(response, new ChatRequest());

        JsonAssert.Equal(json, encoded);
    }

    [Fact]
    public void ErrorBodyFromUpstreamThrowsUpstreamException()
    {
        var error = Assert.Throws<UpstreamException>(() => OpenAIChatCodec.Instance.DecodeResponse(
            JsonNode.Parse("""{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}""")!));
        Assert.Equal((429, FailureKind.Quota, "Rate limit reached"), (error.StatusCode, error.Kind, error.Message));
    }
}
