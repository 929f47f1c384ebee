using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Writes one GenerateContentResponse per piece of content, as SSE (<c>alt=sse</c>) or as Google's JSON-array
/// stream. Function calls are sent whole, as Gemini does, once the next call, content or finish shows they are
/// complete. The last chunk carries every finish reason, grounding and usage: Gemini CLI retries a stream whose
/// last chunk has no finish reason.
/// </summary>
internal sealed class GeminiStreamEncoder(ChatRequest request, StreamFraming framing) : IStreamEncoder
{
    private readonly bool _showThoughts = request.Reasoning?.IncludeThoughts != false;
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private readonly SseJsonWriter _frames = new();
    private string? _id;
    private string _model = request.Model;
    private Usage? _usage;
    private bool _wroteChunk;
    private bool _closed;

    private sealed class ChoiceState
    {
        public PendingCall? Call;
        public FinishReason? Finish;
        public string? NativeFinish;
        public JsonNode? Grounding;
    }

    private sealed class PendingCall(int index, string id, string name, string? signature)
    {
        public int Index { get; } = index;
        public string Id { get; } = id;
        public string Name { get; } = name;
        public string? Signature { get; } = signature;
        public StringBuilder Arguments { get; } = new();
    }

    public string ContentType => framing == StreamFraming.JsonArray ? "application/json" : "text/event-stream";

    public void Encode(StreamEvent streamEvent, IBufferWriter<byte> output)
    {
        if (_closed) return;
        switch (streamEvent)
        {
            case ResponseStarted started:
                _id = started.Id;
                if (!string.IsNullOrEmpty(started.Model)) _model = started.Model;
                break;
            case TextDelta text:
                WriteText(text.Choice, text.Text, thought: false, output);
                break;
            case ReasoningDelta reasoning when _showThoughts:
                WriteText(reasoning.Choice, reasoning.Text, thought: true, output);
                break;
            case ReasoningSignature { Dialect: Dialect.Gemini } signature:
                WriteContent(signature.Choice, new JsonObject { ["text"] = "", ["thought"] = true, ["thoughtSignature"] = signature.Signature }, output);
                break;
            case ToolCallStarted call:
                var calling = State(call.Choice);
                FlushCall(call.Choice, calling, output);
                calling.Call = new PendingCall(call.Index, call.Id, call.Name, call.SignatureDialect == Dialect.Gemini ? call.Signature : null);
                break;
            case ToolCallArgumentsDelta arguments:
                if (State(arguments.Choice).Call is { } pending && pending.Index == arguments.Index) pending.Arguments.Append(arguments.Fragment);
                break;
            case ImageDelta image:
                WriteContent(image.Choice, GeminiParts.EncodeMedia(image.MediaType, image.Data, null)!, output);
                break;
            case NativeDelta { Part.Dialect: Dialect.Gemini } native when native.Part.Json is JsonObject part:
                WriteContent(native.Choice, (JsonObject)part.DeepClone(), output);
                break;
            case GroundingReported grounding:
                State(grounding.Choice).Grounding = grounding.Metadata.DeepClone();
                break;
            case ChoiceFinished finished:
                var state = State(finished.Choice);
                FlushCall(finished.Choice, state, output);
                state.Finish = finished.Reason;
                state.NativeFinish = finished.NativeReason;
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case ResponseCompleted:
                Complete(output);
                break;
        }
    }

    private void WriteContent(int choice, JsonObject part, IBufferWriter<byte> output)
    {
        FlushCall(choice, State(choice), output);
        WriteChunk(new JsonArray(Candidate(choice, part)), output);
    }

    /// <summary>
    /// The per-token chunk, written straight (same bytes as <see cref="WriteContent"/> with a text part):
    /// <c>{"candidates":[{"content":{"role":"model","parts":[{"text":…[,"thought":true]}]},"index":n}],"modelVersion":…,"responseId":…}</c>.
    /// </summary>
    private void WriteText(int choice, string text, bool thought, IBufferWriter<byte> output)
    {
        FlushCall(choice, State(choice), output);
        _id ??= GeminiMapping.NewResponseId();
        Utf8JsonWriter json;
        if (framing == StreamFraming.Sse) json = _frames.Begin(output, default);
        else
        {
            output.Write(_wroteChunk ? ",\r\n"u8 : "["u8);
            json = _frames.Writer(output);
        }
        json.WriteStartObject();
        json.WriteStartArray("candidates"u8);
        json.WriteStartObject();
        json.WriteStartObject("content"u8);
        json.WriteString("role"u8, "model"u8);
        json.WriteStartArray("parts"u8);
        json.WriteStartObject();
        json.WriteString("text"u8, text);
        if (thought) json.WriteBoolean("thought"u8, true);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNumber("index"u8, choice);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("modelVersion"u8, _model);
        json.WriteString("responseId"u8, _id);
        json.WriteEndObject();
        if (framing == StreamFraming.Sse) _frames.End(output);
        else json.Flush();
        _wroteChunk = true;
    }

    /// <summary>A held-back call is complete once something else arrives for its choice.</summary>
    private void FlushCall(int choice, ChoiceState state, IBufferWriter<byte> output)
    {
        if (state.Call is not { } call) return;
        state.Call = null;
        var part = new JsonObject { ["functionCall"] = GeminiParts.EncodeCall(call.Id, call.Name, call.Arguments.ToString()) };
        if (call.Signature is not null) part["thoughtSignature"] = call.Signature;
        WriteChunk(new JsonArray(Candidate(choice, part)), output);
    }

    private void Complete(IBufferWriter<byte> output)
    {
        if (_choices.Count == 0) State(0);
        var candidates = new JsonArray();
        foreach (var (index, state) in _choices)
        {
            FlushCall(index, state, output);
            var candidate = Candidate(index, part: null, GeminiMapping.EncodeFinishReason(state.Finish ?? FinishReason.Stop, state.NativeFinish));
            if (state.Grounding is not null) candidate["groundingMetadata"] = state.Grounding;
            candidates.Add(candidate);
        }
        WriteChunk(candidates, output, _usage is null ? null : GeminiMapping.EncodeUsage(_usage));
        if (framing == StreamFraming.JsonArray) output.Write("]"u8);
        _closed = true;
    }

    public void EncodeError(int status, string message, IBufferWriter<byte> output)
    {
        if (_closed) return;
        _closed = true;
        var error = GeminiMapping.Error(status, message, code: null);
        if (framing == StreamFraming.Sse)
        {
            SseWriter.Write(output, eventName: null, error);
            return;
        }
        output.Write(_wroteChunk ? ",\r\n"u8 : "["u8);
        JsonText.Write(output, error);
        output.Write("]"u8);
    }

    private static JsonObject Candidate(int choice, JsonObject? part, string? finishReason = null)
    {
        var candidate = new JsonObject
        {
            ["content"] = new JsonObject { ["role"] = "model", ["parts"] = part is null ? new JsonArray() : new JsonArray(part) },
        };
        if (finishReason is not null) candidate["finishReason"] = finishReason;
        candidate["index"] = choice;
        return candidate;
    }

    private void WriteChunk(JsonArray candidates, IBufferWriter<byte> output, JsonObject? usage = null)
    {
        _id ??= GeminiMapping.NewResponseId();
        var chunk = new JsonObject { ["candidates"] = candidates };
        if (usage is not null) chunk["usageMetadata"] = usage;
        chunk["modelVersion"] = _model;
        chunk["responseId"] = _id;
        if (framing == StreamFraming.Sse)
        {
            SseWriter.Write(output, eventName: null, chunk);
        }
        else
        {
            output.Write(_wroteChunk ? ",\r\n"u8 : "["u8);
            JsonText.Write(output, chunk);
        }
        _wroteChunk = true;
    }

    private ChoiceState State(int choice)
    {
        if (!_choices.TryGetValue(choice, out var state)) _choices[choice] = state = new ChoiceState();
        return state;
    }
}
