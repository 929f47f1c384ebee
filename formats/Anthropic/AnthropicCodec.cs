using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Anthropic;

/// <summary>Anthropic Messages (<c>/v1/messages</c>, <c>/v1/messages/count_tokens</c>) both ways.</summary>
public sealed class AnthropicCodec : IDialectCodec
{
    public static readonly AnthropicCodec Instance = new();

    private AnthropicCodec()
    {
    }

    public Dialect Dialect => Dialect.Anthropic;

    public ChatRequest DecodeRequest(JsonElement body) => AnthropicRequestDecoder.Decode(body);

    public ChatRequest DecodeRequest(JsonObject body) => AnthropicRequestDecoder.Decode(JsonText.ToElement(body));

    public JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => AnthropicResponseCodec.Encode(response, request);

    /// <summary>Anthropic has only SSE framing; <paramref name="framing"/> is ignored.</summary>
    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse) => new AnthropicStreamEncoder(request);

    /// <summary>
    /// <c>{"type":"error","error":{"type","message"}}</c>, the type chosen by status; a <paramref name="code"/> that is itself
    /// an Anthropic error type (for example <c>overloaded_error</c>) wins.
    /// </summary>
    public JsonObject EncodeError(int status, string message, string? code = null) =>
        AnthropicMappings.ErrorBody(AnthropicMappings.IsErrorType(code) ? code! : AnthropicMappings.ErrorTypeFor(status), message);

    public JsonObject EncodeTokenCount(long inputTokens) => new() { ["input_tokens"] = inputTokens };

    public JsonObject EncodeRequest(ChatRequest request, string upstreamModel) => AnthropicRequestEncoder.Encode(request, upstreamModel);

    public ChatResponse DecodeResponse(JsonElement body) => AnthropicResponseCodec.Decode(body);

    public ChatResponse DecodeResponse(JsonNode body) => AnthropicResponseCodec.Decode(JsonText.ToElement(body));

    public Usage? DecodeUsage(JsonNode? usage) => AnthropicMappings.DecodeUsage(usage);

    public IStreamDecoder CreateStreamDecoder() => new AnthropicStreamDecoder();
}
