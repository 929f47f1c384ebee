using System.Buffers;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Sse;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Canonical events to Anthropic SSE: <c>message_start</c>, <c>ping</c>, then per block <c>content_block_start</c> /
/// <c>content_block_delta</c>* / <c>content_block_stop</c>, then <c>message_delta</c> and <c>message_stop</c>.
/// <para>
/// <c>message_start</c> is written on the first event after <see cref="ResponseStarted"/>, so a
/// <see cref="UsageReported"/> that immediately follows the start (input tokens known up front) lands in its usage.
/// Usage is held for <c>message_delta</c>, which is written on <see cref="ResponseCompleted"/> because usage may still
/// arrive after the finish. Only choice 0 is encoded.
/// </para>
/// </summary>
internal sealed class AnthropicStreamEncoder(ChatRequest request) : IStreamEncoder
{
    private enum BlockKind
    {
        None,
        Text,
        Thinking,
        ToolUse,
    }

    private string? _id;
    private string? _model;
    private bool _startPending;
    private bool _started;
    private bool _ended;
    private Usage? _usage;
    private int _nextIndex;
    private BlockKind _open;
    private int _openToolIndex = -1;
    private readonly PluginProxy.Formats.Sse.SseJsonWriter _frames = new();
    private bool _thinkingSigned;
    private bool _sawToolCall;
    private FinishReason? _finish;
    private string? _nativeFinish;
    private JsonNode? _grounding;

    public string ContentType => "text/event-stream";

    public void Encode(StreamEvent streamEvent, IBufferWriter<byte> output)
    {
        if (_ended) return;
        switch (streamEvent)
        {
            case ResponseStarted started:
                if (_started || _startPending) return;
                _id = started.Id;
                _model = started.Model;
                _startPending = true;
                return;
            case UsageReported usage:
                _usage = usage.Usage;
                if (_startPending) EnsureStarted(output);
                return;
            case GroundingReported { Choice: 0 } grounding:
                _grounding = grounding.Metadata;
                return;
            case TextDelta { Choice: 0 } text when text.Text.Length > 0:
                EnsureStarted(output);
                Open(BlockKind.Text, output);
                WriteDelta(output, "text_delta"u8, "text"u8, text.Text);
                return;
            case ReasoningDelta { Choice: 0 } reasoning when reasoning.Text.Length > 0:
                EnsureStarted(output);
                if (_thinkingSigned) Close(output); // a signature ends its block; more thinking is a new block
                Open(BlockKind.Thinking, output);
                WriteDelta(output, "thinking_delta"u8, "thinking"u8, reasoning.Text);
                return;
            case ReasoningSignature { Choice: 0, Dialect: Dialect.Anthropic } signature:
                EnsureStarted(output);
                if (_thinkingSigned) Close(output);
                Open(BlockKind.Thinking, output); // a signature-only thinking block (omitted thinking text) opens here
                WriteDelta(output, "signature_delta"u8, "signature"u8, signature.Signature);
                _thinkingSigned = true;
                return;
            case RedactedReasoning { Choice: 0 } redacted:
                EnsureStarted(output);
                WholeBlock(output, new JsonObject { ["type"] = "redacted_thinking", ["data"] = redacted.Data });
                return;
            case ToolCallStarted { Choice: 0 } call:
                EnsureStarted(output);
                Close(output);
                WriteBlockStart(output, new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = call.Id.Length > 0 ? call.Id : NewId("toolu_"),
                    ["name"] = call.Name,
                    ["input"] = new JsonObject(),
                });
                _open = BlockKind.ToolUse;
                _openToolIndex = call.Index;
                _sawToolCall = true;
                return;
            case ToolCallArgumentsDelta { Choice: 0 } arguments when arguments.Fragment.Length > 0:
                // Blocks cannot interleave: fragments of a call whose block was already closed are lost.
                if (_open == BlockKind.ToolUse && _openToolIndex == arguments.Index)
                    WriteDelta(output, "input_json_delta"u8, "partial_json"u8, arguments.Fragment);
                return;
            case ImageDelta { Choice: 0 } image:
                EnsureStarted(output);
                WholeBlock(output, new JsonObject
                {
                    ["type"] = "image",
                    ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = image.MediaType, ["data"] = image.Data },
                });
                return;
            case NativeDelta { Choice: 0, Part.Dialect: Dialect.Anthropic } native when native.Part.Json is JsonObject block:
                EnsureStarted(output);
                WholeBlock(output, block.DeepClone().AsObject());
                return;
            case ChoiceFinished { Choice: 0 } finished:
                EnsureStarted(output);
                Close(output);
                _finish = finished.Reason;
                _nativeFinish = finished.NativeReason;
                return;
            case ResponseCompleted:
                EnsureStarted(output);
                Close(output);
                WriteMessageDelta(output);
                SseWriter.Write(output, "message_stop", new JsonObject { ["type"] = "message_stop" });
                _ended = true;
                return;
        }
    }

    public void EncodeError(int status, string message, IBufferWriter<byte> output)
    {
        if (_ended) return;
        SseWriter.Write(output, "error", ErrorBody(ErrorTypeFor(status), message));
        _ended = true;
    }

    private void EnsureStarted(IBufferWriter<byte> output)
    {
        if (_started) return;
        _started = true;
        _startPending = false;
        var usage = EncodeUsage(_usage);
        SseWriter.Write(output, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = string.IsNullOrEmpty(_id) ? NewId("msg_") : _id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = string.IsNullOrEmpty(_model) ? request.Model : _model,
                ["content"] = new JsonArray(),
                ["stop_reason"] = null,
                ["stop_sequence"] = null,
                ["usage"] = usage,
            },
        });
        SseWriter.Write(output, "ping", new JsonObject { ["type"] = "ping" });
    }

    /// <summary>Makes <paramref name="kind"/> the open block, closing another kind first.</summary>
    private void Open(BlockKind kind, IBufferWriter<byte> output)
    {
        if (_open == kind) return;
        Close(output);
        WriteBlockStart(output, kind == BlockKind.Text
            ? new JsonObject { ["type"] = "text", ["text"] = "" }
            : new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" });
        _open = kind;
    }

    private void Close(IBufferWriter<byte> output)
    {
        if (_open == BlockKind.None) return;
        WriteBlockStop(output);
        _nextIndex++;
        _open = BlockKind.None;
        _openToolIndex = -1;
        _thinkingSigned = false;
    }

    /// <summary>A block that arrives complete: start (carrying all of it) and stop at once.</summary>
    private void WholeBlock(IBufferWriter<byte> output, JsonObject block)
    {
        Close(output);
        WriteBlockStart(output, block);
        WriteBlockStop(output);
        _nextIndex++;
    }

    private void WriteBlockStart(IBufferWriter<byte> output, JsonObject block) =>
        SseWriter.Write(output, "content_block_start", new JsonObject
        {
            ["type"] = "content_block_start",
            ["index"] = _nextIndex,
            ["content_block"] = block,
        });

    /// <summary>The per-token frame, written straight: <c>{"type":"content_block_delta","index":n,"delta":{"type":…,field:value}}</c>.</summary>
    private void WriteDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, string value)
    {
        var json = _frames.Begin(output, "content_block_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_delta"u8);
        json.WriteNumber("index"u8, _nextIndex);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, type);
        json.WriteString(field, value);
        json.WriteEndObject();
        json.WriteEndObject();
        _frames.End(output);
    }

    private void WriteBlockStop(IBufferWriter<byte> output)
    {
        var json = _frames.Begin(output, "content_block_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop"u8);
        json.WriteNumber("index"u8, _nextIndex);
        json.WriteEndObject();
        _frames.End(output);
    }

    private void WriteMessageDelta(IBufferWriter<byte> output)
    {
        var messageDelta = new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject
            {
                ["stop_reason"] = StopReasonFor(_finish, _nativeFinish, _sawToolCall),
                ["stop_sequence"] = null,
            },
            ["usage"] = EncodeUsage(_usage),
        };
        if (_grounding is not null) messageDelta["grounding_metadata"] = _grounding.DeepClone();
        SseWriter.Write(output, "message_delta", messageDelta);
    }
}
