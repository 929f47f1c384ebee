using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class ResponseTests
{
    private static readonly AnthropicCodec Codec = AnthropicCodec.Instance;
    private static readonly ChatRequest Request = new() { Model = "claude-client-name" };

    private const string UpstreamMessage = """
    {
      "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
      "type": "message",
      "role": "assistant",
      "model": "claude-sonnet-4-5-20250929",
      "content": [
        {"type": "thinking", "thinking": "Need both cities.", "signature": "EqQBCkYIBxgCKkB+/sig=nature/with+plus=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        {"type": "text", "text": "Checking Paris and Rome."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Rome"}}
      ],
      "stop_reason": "tool_use",
      "stop_sequence": null,
      "usage": {"input_tokens": 300, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 600, "output_tokens": 50, "service_tier": "standard"},
      "container": {"id": "cntr_1", "expires_at": "2026-01-01T00:00:00Z"}
    }
    """;

    [Fact]
    public void DecodeResponse_MapsBlocksUsageAndStopReason()
    {
        var response = Codec.DecodeResponse(JsonNode.Parse(UpstreamMessage)!);

        Assert.Equal(("msg_01XFDUDYJgAACzvnptvVoYEL", "claude-sonnet-4-5-20250929"), (response.Id, response.Model));
        var choice = Assert.Single(response.Choices);
        Assert.Equal((FinishReason.ToolCalls, "tool_use"), (choice.FinishReason!.Value, choice.NativeFinishReason));
        var thinking = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal((RequestDecodeTests.Signature, Dialect.Anthropic), (thinking.Signature, thinking.SignatureDialect!.Value));
        Assert.Equal("EmwKAhgBEgy3va3pzix/LafPsn4a", Assert.IsType<ReasoningPart>(choice.Parts[1]).RedactedData);
        Assert.Equal("Checking Paris and Rome.", Assert.IsType<TextPart>(choice.Parts[2]).Text);
        Assert.Equal(["toolu_01A", "toolu_01B"], choice.Parts.OfType<ToolCallPart>().Select(c => c.Id));

        var usage = response.Usage!;
        Assert.Equal(1000, usage.InputTokens); // 300 + cache reads 600 + cache writes 100
        Assert.Equal((600, 100, 50), (usage.CachedInputTokens, usage.CacheCreationInputTokens, usage.OutputTokens));
        Assert.Equal(1050, usage.Total);
        JsonAssert.Equal("""{"service_tier":"standard"}""", response.Extensions["anthropic.usage"]);
    }

    [Fact]
    public void DecodeThenEncode_ReproducesTheUpstreamMessage()
    {
        var upstream = JsonNode.Parse(UpstreamMessage)!;

        var encoded = Codec.EncodeResponse(Codec.DecodeResponse(upstream), Request);

        JsonAssert.Equal(upstream, encoded);
    }

    [Fact]
    public void EncodeResponse_FromAnotherDialect()
    {
        var response = new ChatResponse
        {
            Id = "resp-gemini-1",
            Model = "gemini-2.5-pro",
            Choices =
            [
                new Choice
                {
                    Parts =
                    [
                        new ReasoningPart { Text = "Searching.", Signature = "gemini-signature", SignatureDialect = Dialect.Gemini },
                        new TextPart("Paris is sunny."),
                        new ImagePart { MediaType = "image/png", Data = "iVBORw0KGgo=" },
                        new NativePart(Dialect.Gemini, JsonNode.Parse("""{"executableCode":{"code":"print(1)"}}""")!),
                    ],
                    FinishReason = FinishReason.Length,
                    NativeFinishReason = "MAX_TOKENS",
                    GroundingMetadata = JsonNode.Parse("""{"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://w","title":"w"}}]}"""),
                },
            ],
            Usage = new Usage { InputTokens = 120, CachedInputTokens = 20, OutputTokens = 30, ReasoningTokens = 10 },
        };
        response.Extensions["gemini.modelVersion"] = "x";

        var body = Codec.EncodeResponse(response, Request);

        JsonAssert.Equal("""
            {
              "id": "resp-gemini-1",
              "type": "message",
              "role": "assistant",
              "model": "gemini-2.5-pro",
              "content": [
                {"type":"thinking","thinking":"Searching.","signature":""},
                {"type":"text","text":"Paris is sunny."},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}
              ],
              "stop_reason": "max_tokens",
              "stop_sequence": null,
              "usage": {"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":20,"output_tokens":30},
              "grounding_metadata": {"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://w","title":"w"}}]}
            }
            """, body);
    }

    [Fact]
    public void EncodeResponse_WithoutIdsOrUsage_FillsDefaults()
    {
        var response = new ChatResponse { Choices = [new Choice { Parts = [new ToolCallPart { Id = "call_9", Name = "f", Arguments = """{"a":1}""" }] }] };

        var body = Codec.EncodeResponse(response, Request);

        Assert.StartsWith("msg_", body["id"]!.GetValue<string>());
        Assert.Equal("claude-client-name", body["model"]!.GetValue<string>());
        Assert.Equal("tool_use", body["stop_reason"]!.GetValue<string>());
        JsonAssert.Equal("""[{"type":"tool_use","id":"call_9","name":"f","input":{"a":1}}]""", body["content"]);
        JsonAssert.Equal("""{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}""", body["usage"]);
    }

    [Theory]
    [InlineData(FinishReason.Stop, null, "end_turn")]
    [InlineData(FinishReason.StopSequence, null, "stop_sequence")]
    [InlineData(FinishReason.Length, null, "max_tokens")]
    [InlineData(FinishReason.ToolCalls, null, "tool_use")]
    [InlineData(FinishReason.ContentFilter, "SAFETY", "refusal")]
    [InlineData(FinishReason.Other, "RECITATION", "end_turn")]
    [InlineData(FinishReason.Other, "pause_turn", "pause_turn")]
    [InlineData(FinishReason.Stop, "stop", "end_turn")]
    public void StopReason_Mapping(FinishReason reason, string? native, string expected)
    {
        var response = new ChatResponse { Choices = [new Choice { FinishReason = reason, NativeFinishReason = native }] };

        Assert.Equal(expected, Codec.EncodeResponse(response, Request)["stop_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("end_turn", FinishReason.Stop)]
    [InlineData("stop_sequence", FinishReason.StopSequence)]
    [InlineData("max_tokens", FinishReason.Length)]
    [InlineData("model_context_window_exceeded", FinishReason.Length)]
    [InlineData("tool_use", FinishReason.ToolCalls)]
    [InlineData("refusal", FinishReason.ContentFilter)]
    [InlineData("pause_turn", FinishReason.Other)]
    public void DecodeResponse_StopReasons(string stopReason, FinishReason expected)
    {
        var body = JsonNode.Parse($$$"""{"id":"m","type":"message","role":"assistant","model":"c","content":[],"stop_reason":"{{{stopReason}}}","stop_sequence":"###","usage":{"input_tokens":1,"output_tokens":1}}""")!;

        var response = Codec.DecodeResponse(body);

        Assert.Equal(expected, response.Choices[0].FinishReason);
        Assert.Equal("###", Codec.EncodeResponse(response, Request)["stop_sequence"]!.GetValue<string>());
    }

    [Fact]
    public void DecodeResponse_ErrorBody_ThrowsUpstreamException()
    {
        var body = JsonNode.Parse("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""")!;

        var error = Assert.Throws<UpstreamException>(() => Codec.DecodeResponse(body));

        Assert.Equal((FailureKind.Transient, 529, "Overloaded"), (error.Kind, error.StatusCode, error.Message));
    }

    [Fact]
    public void DecodeResponse_MalformedContent_ThrowsUpstreamException()
    {
        var body = JsonNode.Parse("""{"type":"message","content":[{"type":"tool_use","id":5}]}""")!;

        var error = Assert.Throws<UpstreamException>(() => Codec.DecodeResponse(body));

        Assert.Equal(502, error.StatusCode);
    }
}
