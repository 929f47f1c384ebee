using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

/// <summary>The non-streaming answer read in place, as DialectHttpExecutor hands it over (a pooled document over its buffer).</summary>
public sealed class ResponseDecodeBytesTests
{
    private const string Answer = """
    {
      "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
      "content": [
        {"type": "thinking", "thinking": "Look it up.", "signature": "c2ln+/=="},
        {"type": "text", "text": "Paris: sunny \u00e9t\u00e9."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris", "days": [1, 2]}},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "paris weather"}}
      ],
      "stop_reason": "tool_use", "stop_sequence": "END",
      "usage": {"input_tokens": 30, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 10, "output_tokens": 5, "service_tier": "standard"},
      "grounding_metadata": {"webSearchQueries": ["paris weather"]},
      "container": {"id": "cntr_1"}
    }
    """;

    /// <summary>
    /// The executor disposes the document and returns the buffer right after the call: anything the response still
    /// pointed into would read <c>#</c>s or throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    [Fact]
    public void The_response_outlives_its_disposed_document_and_buffer()
    {
        var response = DecodeThenOverwrite(Answer);

        Assert.Equal(("msg_01", "claude-sonnet-4-5"), (response.Id, response.Model));
        var choice = Assert.Single(response.Choices);
        Assert.Equal((FinishReason.ToolCalls, "tool_use"), (choice.FinishReason!.Value, choice.NativeFinishReason));
        var reasoning = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal(("Look it up.", "c2ln+/=="), (reasoning.Text, reasoning.Signature));
        Assert.Equal("Paris: sunny été.", Assert.IsType<TextPart>(choice.Parts[1]).Text);
        var call = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.Equal(("toolu_1", "get_weather"), (call.Id, call.Name));
        JsonAssert.Equal("""{"city":"Paris","days":[1,2]}""", JsonNode.Parse(call.Arguments));
        var native = Assert.IsType<NativePart>(choice.Parts[3]);
        JsonAssert.Equal("""{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"paris weather"}}""", native.Json);
        JsonAssert.Equal("""{"webSearchQueries":["paris weather"]}""", choice.GroundingMetadata);

        Assert.Equal((100L, 60L, 10L, 5L), (response.Usage!.InputTokens, response.Usage.CachedInputTokens, response.Usage.CacheCreationInputTokens, response.Usage.OutputTokens));
        JsonAssert.Equal("""{"service_tier":"standard"}""", response.Extensions["anthropic.usage"]);
        Assert.Equal("END", (string?)response.Extensions["anthropic.stop_sequence"]);
        JsonAssert.Equal("""{"id":"cntr_1"}""", response.Extensions["anthropic.container"]);

        // What was kept also writes back out whole (the client's answer is encoded after the document is gone).
        var encoded = AnthropicCodec.Instance.EncodeResponse(response, new ChatRequest { Model = "m" });
        JsonAssert.Equal("""{"city":"Paris","days":[1,2]}""", encoded["content"]![2]!["input"]);
        Assert.Equal("standard", (string?)encoded["usage"]!["service_tier"]);
    }

    private static ChatResponse DecodeThenOverwrite(string json)
    {
        var buffer = Encoding.UTF8.GetBytes(json);
        ChatResponse response;
        using (var document = LenientJson.TryParse(buffer)!) response = AnthropicCodec.Instance.DecodeResponse(document.RootElement);
        buffer.AsSpan().Fill((byte)'#');
        return response;
    }
}
