using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Gemini generateContent (<c>/v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent</c>).
/// The model lives in the URL: <see cref="DecodeRequest"/> leaves <see cref="ChatRequest.Model"/> empty unless the
/// body names one, and <see cref="EncodeRequest"/> writes no model (the executor puts it in the URL).
/// </summary>
public sealed class GeminiCodec : IDialectCodec
{
    public static readonly GeminiCodec Instance = new();

    private GeminiCodec() { }

    public Dialect Dialect => Dialect.Gemini;

    /// <summary>Accepts generateContent bodies, countTokens bodies (also wrapped in <c>generateContentRequest</c>) and the Cloud Code <c>{"request": ...}</c> envelope.</summary>
    public ChatRequest DecodeRequest(JsonElement body) => GeminiRequestDecoder.Decode(body);

    public ChatRequest DecodeRequest(JsonObject body) => DecodeRequest(JsonText.ToElement(body));

    public JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => GeminiResponseCodec.Encode(response, request);

    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse) => new GeminiStreamEncoder(request, framing);

    public JsonObject EncodeError(int status, string message, string? code = null) => GeminiMapping.Error(status, message, code);

    public JsonObject EncodeTokenCount(long inputTokens) => new() { ["totalTokens"] = inputTokens };

    /// <summary><paramref name="upstreamModel"/> picks the thinking control (levels on Gemini 3+, budgets before).</summary>
    public JsonObject EncodeRequest(ChatRequest request, string upstreamModel) => GeminiRequestEncoder.Encode(request, upstreamModel);

    public ChatResponse DecodeResponse(JsonElement body) => GeminiResponseCodec.Decode(body);

    public ChatResponse DecodeResponse(JsonNode body) => DecodeResponse(JsonText.ToElement(body));

    public Usage? DecodeUsage(JsonNode? usage) => usage is JsonObject metadata ? GeminiMapping.DecodeUsage(metadata) : null;

    public IStreamDecoder CreateStreamDecoder() => new GeminiStreamDecoder();
}
