using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats;

/// <summary>
/// One wire dialect, both directions. The client side decodes requests and encodes answers; the upstream side
/// encodes requests and decodes answers. Implementations are stateless; per-stream state lives in the
/// encoder/decoder objects they create.
/// </summary>
public interface IDialectCodec
{
    Dialect Dialect { get; }

    // ---- client side ----

    /// <summary>
    /// Client body to canonical. Throws <see cref="RequestFormatException"/> for input the dialect does not allow. Reads
    /// the element without building a DOM; whatever the canonical request keeps as JSON (schemas, extensions, native
    /// parts) is copied out, so the request stays valid after <paramref name="body"/>'s document is disposed.
    /// </summary>
    ChatRequest DecodeRequest(JsonElement body);

    /// <summary>The same for a body already held as a DOM (tests, tools): decoded through its JSON element.</summary>
    ChatRequest DecodeRequest(JsonObject body);

    /// <summary>Canonical answer to the client's non-streaming body.</summary>
    JsonObject EncodeResponse(ChatResponse response, ChatRequest request);

    /// <summary>Creates the per-stream encoder that writes this dialect's SSE (or JSON-array) framing.</summary>
    IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing = StreamFraming.Sse);

    /// <summary>Error body in this dialect's shape (what its SDKs parse) for a failure before any byte was streamed.</summary>
    JsonObject EncodeError(int status, string message, string? code = null);

    /// <summary>Body answering a token-count request (Anthropic <c>{"input_tokens":n}</c>, Gemini <c>{"totalTokens":n}</c>).</summary>
    JsonObject EncodeTokenCount(long inputTokens);

    // ---- upstream side ----

    /// <summary>Canonical request to an upstream body in this dialect, with <paramref name="upstreamModel"/> as the model.</summary>
    JsonObject EncodeRequest(ChatRequest request, string upstreamModel);

    /// <summary>
    /// Upstream non-streaming body to canonical. Reads the element in place (no DOM); whatever the answer keeps as JSON
    /// (native parts, grounding) is copied out, so the response stays valid after <paramref name="body"/>'s document is
    /// disposed.
    /// </summary>
    ChatResponse DecodeResponse(JsonElement body);

    /// <summary>The same for a body already held as a DOM (tests, plugins that build answers): decoded through its element.</summary>
    ChatResponse DecodeResponse(JsonNode body);

    /// <summary>
    /// An upstream answer's usage object alone (<c>usage</c>, or Gemini's <c>usageMetadata</c>) to canonical, as
    /// <see cref="DecodeResponse"/> would read it; null when it is not an object. Passthrough reads usage this way
    /// without decoding the rest of the answer.
    /// </summary>
    Usage? DecodeUsage(JsonNode? usage);

    /// <summary>Creates the per-stream decoder for this dialect's upstream SSE.</summary>
    IStreamDecoder CreateStreamDecoder();
}

/// <summary>How a stream is framed on the wire. Only Gemini has a non-SSE framing (a JSON array without <c>alt=sse</c>).</summary>
public enum StreamFraming
{
    Sse,
    JsonArray,
}

/// <summary>Turns upstream SSE events into canonical events. Not thread-safe; one per stream.</summary>
public interface IStreamDecoder
{
    /// <summary>Decodes one SSE event, appending zero or more canonical events.</summary>
    void Decode(SseEvent sse, List<StreamEvent> output);

    /// <summary>The upstream stream ended; appends closing events (always ending with <see cref="ResponseCompleted"/>).</summary>
    void Complete(List<StreamEvent> output);

    /// <summary>
    /// Whether the upstream's own end of stream has been decoded (OpenAI <c>[DONE]</c> or a finish on every choice,
    /// Anthropic <c>message_stop</c>, Responses <c>response.completed</c>/<c>incomplete</c>, a Gemini <c>finishReason</c>
    /// on every candidate). A stream that ends while this is false was cut: the caller reports a failure instead of
    /// calling <see cref="Complete"/>, which would close it as if it had ended normally.
    /// </summary>
    bool EndedCleanly { get; }
}

/// <summary>Turns canonical events into client bytes. Not thread-safe; one per stream.</summary>
public interface IStreamEncoder
{
    /// <summary>Content type of the stream (<c>text/event-stream</c>, or <c>application/json</c> for JSON-array framing).</summary>
    string ContentType { get; }

    /// <summary>Writes the bytes for one event (possibly none). <see cref="ResponseCompleted"/> writes the terminator.</summary>
    void Encode(StreamEvent streamEvent, IBufferWriter<byte> output);

    /// <summary>Writes this dialect's mid-stream error event; the stream ends after it.</summary>
    void EncodeError(int status, string message, IBufferWriter<byte> output);
}

/// <summary>The client sent something the dialect does not allow; becomes a 400 in the client's error shape.</summary>
public sealed class RequestFormatException(string message) : Exception(message);
