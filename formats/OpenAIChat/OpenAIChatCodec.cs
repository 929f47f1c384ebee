using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// OpenAI Chat Completions (<c>/v1/chat/completions</c>) both ways. Non-standard fields understood on top of the
/// OpenAI API: <c>reasoning_content</c> (or <c>reasoning</c>) for reasoning text, LiteLLM-style
/// <c>thinking_blocks</c> for reasoning signatures, <c>{"google_search":{}}</c>-style Gemini server tools,
/// <c>top_k</c>, <c>message.images</c> and <c>choices[i].grounding_metadata</c>. Legacy text completions are in
/// <see cref="CompletionsAdapter"/>.
/// </summary>
public sealed class OpenAIChatCodec : IDialectCodec
{
    public static readonly OpenAIChatCodec Instance = new();

    private OpenAIChatCodec() { }

    public Dialect Dialect => Dialect.OpenAIChat;

    /// <summary>Reads the body in place; the result keeps nothing of the body's document, which the caller may dispose.</summary>
    public ChatRequest DecodeRequest(JsonElement body) => ChatRequestDecoder.Decode(body);

    public ChatRequest DecodeRequest(JsonObject body) => ChatRequestDecoder.Decode(JsonText.ToElement(body));

    public JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => ChatResponseEncoder.Encode(response, request);

    /// <summary>Chat streams are always SSE; <paramref name="framing"/> only matters for Gemini.</summary>
    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse) => new ChatStreamEncoder(request);

    public JsonObject EncodeError(int status, string message, string? code = null) => ChatWire.ErrorBody(status, message, code);

    /// <summary>OpenAI has no token-count endpoint; the proxy answers its own count in this shape.</summary>
    public JsonObject EncodeTokenCount(long inputTokens) => new() { ["object"] = "token_count", ["input_tokens"] = inputTokens };

    public JsonObject EncodeRequest(ChatRequest request, string upstreamModel) => ChatRequestEncoder.Encode(request, upstreamModel);

    public ChatResponse DecodeResponse(JsonElement body) => ChatResponseDecoder.Decode(body);

    public ChatResponse DecodeResponse(JsonNode body) => ChatResponseDecoder.Decode(JsonText.ToElement(body));

    public Usage? DecodeUsage(JsonNode? usage) => ChatWire.ParseUsage(usage);

    public IStreamDecoder CreateStreamDecoder() => new ChatStreamDecoder();
}
