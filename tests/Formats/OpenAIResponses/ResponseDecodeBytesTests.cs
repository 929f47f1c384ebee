using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

/// <summary>The non-streaming answer read in place, as DialectHttpExecutor hands it over (a pooled document over its buffer).</summary>
public sealed class ResponseDecodeBytesTests
{
    private const string Answer = """
    {
      "id": "resp_1", "object": "response", "created_at": 1735689600, "status": "completed", "model": "gpt-5",
      "output": [
        {"id": "rs_1", "type": "reasoning", "encrypted_content": "enc+/==",
         "summary": [{"type": "summary_text", "text": "First."}, {"type": "summary_text", "text": "Second."}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Paris: sunny \u00e9t\u00e9.", "annotations": []}]},
        {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "get_weather",
         "arguments": "{\"city\":\"Paris\",\"days\":[1,2]}"},
        {"id": "ws_1", "type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "paris weather"}}
      ],
      "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 60}, "output_tokens": 20,
                "output_tokens_details": {"reasoning_tokens": 8}, "total_tokens": 120},
      "grounding_metadata": {"webSearchQueries": ["paris weather"]}
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

        Assert.Equal(("resp_1", "gpt-5", 1735689600L), (response.Id, response.Model, response.Created));
        var choice = Assert.Single(response.Choices);
        Assert.Equal((FinishReason.ToolCalls, "completed"), (choice.FinishReason!.Value, choice.NativeFinishReason));
        var reasoning = Assert.IsType<ReasoningPart>(choice.Parts[0]);
        Assert.Equal(("First.\n\nSecond.", "enc+/=="), (reasoning.Text, reasoning.Signature));
        JsonAssert.Equal("""[{"type":"summary_text","text":"First."},{"type":"summary_text","text":"Second."}]""",
            ResponsesExtensions.Get(reasoning, ResponsesExtensions.Summary));
        var text = Assert.IsType<TextPart>(choice.Parts[1]);
        Assert.Equal(("Paris: sunny été.", "msg_1"), (text.Text, ResponsesExtensions.GetString(text, ResponsesExtensions.Id)));
        var call = Assert.IsType<ToolCallPart>(choice.Parts[2]);
        Assert.Equal(("call_1", "get_weather", """{"city":"Paris","days":[1,2]}"""), (call.Id, call.Name, call.Arguments));
        var native = Assert.IsType<NativePart>(choice.Parts[3]);
        JsonAssert.Equal("""{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"paris weather"}}""", native.Json);
        JsonAssert.Equal("""{"webSearchQueries":["paris weather"]}""", choice.GroundingMetadata);
        Assert.Equal((100L, 60L, 20L, 8L, (long?)120),
            (response.Usage!.InputTokens, response.Usage.CachedInputTokens, response.Usage.OutputTokens, response.Usage.ReasoningTokens, response.Usage.TotalTokens));

        // What was kept also writes back out whole (the client's answer is encoded after the document is gone).
        var encoded = OpenAIResponsesCodec.Instance.EncodeResponse(response, new ChatRequest { Model = "m" });
        JsonAssert.Equal("""{"type":"search","query":"paris weather"}""", encoded["output"]![3]!["action"]);
        Assert.Equal("Second.", (string?)encoded["output"]![0]!["summary"]![1]!["text"]);
    }

    private static ChatResponse DecodeThenOverwrite(string json)
    {
        var buffer = Encoding.UTF8.GetBytes(json);
        ChatResponse response;
        using (var document = LenientJson.TryParse(buffer)!) response = OpenAIResponsesCodec.Instance.DecodeResponse(document.RootElement);
        buffer.AsSpan().Fill((byte)'#');
        return response;
    }
}
