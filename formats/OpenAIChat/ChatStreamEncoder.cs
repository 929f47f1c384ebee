using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Canonical events to <c>chat.completion.chunk</c> SSE, the way OpenAI streams: a role chunk per choice, content and
/// <c>reasoning_content</c> deltas as they come, each tool call opened with id/name and empty arguments followed by
/// argument fragments, a <c>delta:{}</c> chunk carrying <c>finish_reason</c> (and <c>grounding_metadata</c>), a
/// usage chunk with <c>choices:[]</c> only when the client set <c>stream_options.include_usage</c>, then
/// <c>data: [DONE]</c>.
/// </summary>
internal sealed class ChatStreamEncoder(ChatRequest request) : IStreamEncoder
{
    private readonly ChunkWriter _chunks = new("chat.completion.chunk", "chatcmpl-", request.Model);
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private Usage? _usage;
    private bool _closed;

    public string ContentType => "text/event-stream";

    public void Encode(StreamEvent streamEvent, IBufferWriter<byte> output)
    {
        if (_closed) return;
        switch (streamEvent)
        {
            case ResponseStarted started:
                if (!_chunks.HasHeader) _chunks.Start(started);
                StartChoice(0, output);
                break;
            case TextDelta { Text.Length: > 0 } text:
                WriteStringDelta(output, text.Choice, "content", text.Text);
                break;
            case ReasoningDelta { Text.Length: > 0 } reasoning:
                WriteStringDelta(output, reasoning.Choice, "reasoning_content", reasoning.Text);
                break;
            case ReasoningSignature { Dialect: Dialect.OpenAIChat } signature:
                WriteSignature(output, signature);
                break;
            case ToolCallStarted call:
                WriteToolCallStart(output, call);
                break;
            case ToolCallArgumentsDelta { Fragment.Length: > 0 } arguments:
                WriteToolCallArguments(output, arguments);
                break;
            case ImageDelta image:
                WriteImage(output, image);
                break;
            case NativeDelta { Part: { Dialect: Dialect.OpenAIChat, Json: JsonObject fields } } native when !fields.ContainsKey("type"):
                WriteMessageFields(output, native.Choice, fields);
                break;
            case GroundingReported grounding:
                ReportGrounding(output, grounding);
                break;
            case ChoiceFinished finished:
                Finish(output, finished.Choice, finished.Reason);
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case ResponseCompleted:
                Complete(output);
                break;
        }
    }

    public void EncodeError(int status, string message, IBufferWriter<byte> output)
    {
        if (_closed) return;
        ChunkWriter.WriteError(output, status, message);
        _closed = true;
    }

    private ChoiceState StartChoice(int index, IBufferWriter<byte> output)
    {
        if (_choices.TryGetValue(index, out var state)) return state;
        state = new ChoiceState();
        _choices[index] = state;
        var json = BeginDelta(output, index);
        json.WriteString("role", "assistant");
        json.WriteString("content", "");
        EndDelta(output, null, null);
        return state;
    }

    private void WriteStringDelta(IBufferWriter<byte> output, int choice, string field, string text)
    {
        StartChoice(choice, output);
        BeginDelta(output, choice).WriteString(field, text);
        EndDelta(output, null, null);
    }

    /// <summary>A signature from an OpenAI-compatible upstream goes back out the way such servers send it (LiteLLM thinking_blocks).</summary>
    private void WriteSignature(IBufferWriter<byte> output, ReasoningSignature signature)
    {
        StartChoice(signature.Choice, output);
        var json = BeginDelta(output, signature.Choice);
        json.WriteStartArray("thinking_blocks");
        json.WriteStartObject();
        json.WriteString("type", "thinking");
        json.WriteString("thinking", "");
        json.WriteString("signature", signature.Signature);
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta(output, null, null);
    }

    private void WriteToolCallStart(IBufferWriter<byte> output, ToolCallStarted call)
    {
        var state = StartChoice(call.Choice, output);
        var index = state.WireToolIndex(call.Index);
        var json = BeginDelta(output, call.Choice);
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteString("id", call.Id);
        json.WriteString("type", "function");
        json.WriteStartObject("function");
        json.WriteString("name", call.Name);
        json.WriteString("arguments", "");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta(output, null, null);
    }

    private void WriteToolCallArguments(IBufferWriter<byte> output, ToolCallArgumentsDelta arguments)
    {
        var state = StartChoice(arguments.Choice, output);
        var index = state.WireToolIndex(arguments.Index);
        var json = BeginDelta(output, arguments.Choice);
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("function");
        json.WriteString("arguments", arguments.Fragment);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta(output, null, null);
    }

    private void WriteImage(IBufferWriter<byte> output, ImageDelta image)
    {
        var state = StartChoice(image.Choice, output);
        var json = BeginDelta(output, image.Choice);
        json.WriteStartArray("images");
        json.WriteStartObject();
        json.WriteNumber("index", state.Images++);
        json.WriteString("type", "image_url");
        json.WriteStartObject("image_url");
        json.WriteString("url", DataUrl.Build(image.MediaType, image.Data));
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta(output, null, null);
    }

    private void WriteMessageFields(IBufferWriter<byte> output, int choice, JsonObject fields)
    {
        StartChoice(choice, output);
        var json = BeginDelta(output, choice);
        foreach (var (key, value) in fields)
        {
            json.WritePropertyName(key);
            if (value is null) json.WriteNullValue();
            else value.WriteTo(json);
        }
        EndDelta(output, null, null);
    }

    /// <summary>Grounding rides on the choice's finish chunk; if the choice already finished it gets a chunk of its own.</summary>
    private void ReportGrounding(IBufferWriter<byte> output, GroundingReported grounding)
    {
        var state = StartChoice(grounding.Choice, output);
        if (!state.Finished)
        {
            state.Grounding = grounding.Metadata;
            return;
        }
        BeginDelta(output, grounding.Choice);
        EndDelta(output, state.FinishReason, grounding.Metadata);
    }

    private void Finish(IBufferWriter<byte> output, int choice, FinishReason? reason)
    {
        var state = StartChoice(choice, output);
        if (state.Finished) return;
        state.Finished = true;
        state.FinishReason = ChatWire.ToWireFinishReason(reason, state.CalledTools);
        BeginDelta(output, choice);
        EndDelta(output, state.FinishReason, state.Grounding);
        state.Grounding = null;
    }

    /// <summary>Every choice gets a finish_reason (the OpenAI SDK stream helper requires one), then usage and [DONE].</summary>
    private void Complete(IBufferWriter<byte> output)
    {
        StartChoice(0, output);
        foreach (var (index, state) in _choices)
        {
            if (!state.Finished) Finish(output, index, null);
        }
        if (request.IncludeUsage && _usage is not null) _chunks.WriteUsage(output, _usage);
        ChunkWriter.WriteDone(output);
        _closed = true;
    }

    /// <summary>Opens a chunk with one choice and writes up to the opening of its <c>delta</c> object.</summary>
    private Utf8JsonWriter BeginDelta(IBufferWriter<byte> output, int choice)
    {
        var json = _chunks.Begin(output);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", choice);
        json.WriteStartObject("delta");
        return json;
    }

    private void EndDelta(IBufferWriter<byte> output, string? finishReason, JsonNode? grounding)
    {
        var json = _chunks.Json;
        json.WriteEndObject();
        if (finishReason is null) json.WriteNull("finish_reason");
        else json.WriteString("finish_reason", finishReason);
        if (grounding is not null)
        {
            json.WritePropertyName("grounding_metadata");
            grounding.WriteTo(json);
        }
        json.WriteEndObject();
        json.WriteEndArray();
        _chunks.End(output);
    }

    private sealed class ChoiceState
    {
        private readonly Dictionary<int, int> _toolIndexes = [];

        public bool Finished { get; set; }
        public string? FinishReason { get; set; }
        public JsonNode? Grounding { get; set; }
        public int Images { get; set; }
        public bool CalledTools => _toolIndexes.Count > 0;

        /// <summary>Wire indexes count this choice's tool calls from 0 in the order they started.</summary>
        public int WireToolIndex(int canonicalIndex)
        {
            if (!_toolIndexes.TryGetValue(canonicalIndex, out var index))
            {
                index = _toolIndexes.Count;
                _toolIndexes[canonicalIndex] = index;
            }
            return index;
        }
    }
}
