using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// OpenAI Responses (<c>/v1/responses</c>). Besides function tools, requests may name the Gemini server tools as
/// <c>{"type":"google_search"}</c>, <c>{"type":"code_execution"}</c> and <c>{"type":"url_context"}</c> (any other keys
/// are their config); every other non-function tool (web_search, file_search, namespace, mcp, custom, ...) is kept
/// as a native tool. Gemini grounding reaches clients as a top-level <c>grounding_metadata</c> on the response object.
/// </summary>
public sealed class OpenAIResponsesCodec : IDialectCodec
{
    public static readonly OpenAIResponsesCodec Instance = new();

    private OpenAIResponsesCodec()
    {
    }

    public Dialect Dialect => Dialect.OpenAIResponses;

    public ChatRequest DecodeRequest(JsonElement body) => ResponsesRequestDecoder.Decode(body);

    public ChatRequest DecodeRequest(JsonObject body) => DecodeRequest(JsonText.ToElement(body));

    public JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => ResponsesResponseCodec.Encode(response, request);

    /// <summary>Responses streams are always SSE; <paramref name="framing"/> only matters for Gemini.</summary>
    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse) => new ResponsesStreamEncoder(request);

    public JsonObject EncodeError(int status, string message, string? code = null) => ResponsesErrors.Body(status, message, code);

    /// <summary>The shape of OpenAI's <c>/v1/responses/input_tokens</c> answer.</summary>
    public JsonObject EncodeTokenCount(long inputTokens) => new() { ["object"] = "response.input_tokens", ["input_tokens"] = inputTokens };

    public JsonObject EncodeRequest(ChatRequest request, string upstreamModel) => ResponsesRequestEncoder.Encode(request, upstreamModel);

    public ChatResponse DecodeResponse(JsonElement body) => ResponsesResponseCodec.Decode(body);

    public ChatResponse DecodeResponse(JsonNode body) => ResponsesResponseCodec.Decode(JsonText.ToElement(body));

    public Usage? DecodeUsage(JsonNode? usage) => ResponseObject.ReadUsage(usage);

    public IStreamDecoder CreateStreamDecoder() => new ResponsesStreamDecoder();
}
