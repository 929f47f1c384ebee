using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>Placeholder until the OpenAIResponses codec lands.</summary>
public sealed class OpenAIResponsesCodec : IDialectCodec
{
    public static readonly OpenAIResponsesCodec Instance = new();

    public Dialect Dialect => Dialect.OpenAIResponses;

    public ChatRequest DecodeRequest(JsonObject body) => throw new NotImplementedException();
    public JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => throw new NotImplementedException();
    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse) => throw new NotImplementedException();
    public JsonObject EncodeError(int status, string message, string? code = null) => throw new NotImplementedException();
    public JsonObject EncodeTokenCount(long inputTokens) => throw new NotImplementedException();
    public JsonObject EncodeRequest(ChatRequest request, string upstreamModel) => throw new NotImplementedException();
    public ChatResponse DecodeResponse(JsonNode body) => throw new NotImplementedException();
    public IStreamDecoder CreateStreamDecoder() => throw new NotImplementedException();
}
