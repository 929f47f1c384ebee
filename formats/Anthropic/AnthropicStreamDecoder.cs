using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using static PluginProxy.Formats.Anthropic.AnthropicJson;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Anthropic upstream SSE to canonical events, as early as each piece is known. Blocks with no canonical delta
/// (<c>server_tool_use</c>, <c>web_search_tool_result</c>, ...) are collected, with their streamed input, and emitted
/// whole as <see cref="NativeDelta"/> at their <c>content_block_stop</c>. <c>citations_delta</c> has no canonical
/// event and is dropped. An <c>error</c> event throws <see cref="PluginProxy.Abstractions.Upstream.UpstreamException"/>.
/// </summary>
internal sealed class AnthropicStreamDecoder : IStreamDecoder
{
    private enum BlockKind
    {
        Text,
        Thinking,
        ToolUse,
        Native,
    }

    private sealed class Block(BlockKind kind)
    {
        public BlockKind Kind { get; } = kind;
        public int ToolIndex { get; init; }
        public JsonObject? Native { get; init; }
        public StringBuilder? NativeInput { get; set; }
    }

    private readonly Dictionary<int, Block> _blocks = [];
    private int _toolCount;
    private bool _finished;
    private long _inputTokens;
    private long _cacheRead;
    private long _cacheCreation;
    private long _outputTokens;

    /// <summary>
    /// <c>message_stop</c>, or the <c>stop_reason</c> of <c>message_delta</c>: nothing canonical follows it, so a stream
    /// cut between the two lost nothing.
    /// </summary>
    public bool EndedCleanly { get; private set; }

    private enum EventType
    {
        Other,
        MessageStart,
        ContentBlockStart,
        ContentBlockDelta,
        ContentBlockStop,
        MessageDelta,
        MessageStop,
        Error,
    }

    private static readonly SseEventTypes<EventType> EventTypes = new(
        ("content_block_delta", EventType.ContentBlockDelta),
        ("content_block_start", EventType.ContentBlockStart),
        ("content_block_stop", EventType.ContentBlockStop),
        ("message_start", EventType.MessageStart),
        ("message_delta", EventType.MessageDelta),
        ("message_stop", EventType.MessageStop),
        ("error", EventType.Error));

    /// <summary>
    /// Reads the event's UTF-8 data as a pooled document: nothing kept points into it (strings are materialized, JSON
    /// kept whole is copied out) since the reader reuses its buffer after this call.
    /// </summary>
    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        using var document = LenientJson.TryParse(sse.Utf8Data);
        if (document is null) return;
        var data = document.RootElement;
        if (data.ValueKind != JsonValueKind.Object) return;
        switch (EventTypes.Of(LenientJson.Get(data, "type"u8), sse.Event))
        {
            case EventType.MessageStart:
                TryObject(data, "message", out var message);
                output.Add(new ResponseStarted(Text(message, "id") ?? "", Text(message, "model") ?? "", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
                if (TryObject(message, "usage", out var startUsage))
                {
                    ReadUsage(startUsage);
                    output.Add(new UsageReported(CurrentUsage()));
                }
                return;
            case EventType.ContentBlockStart:
                if (TryObject(data, "content_block", out var block)) StartBlock((int)Count(data, "index"), block, output);
                return;
            case EventType.ContentBlockDelta:
                if (TryObject(data, "delta", out var delta)) BlockDelta((int)Count(data, "index"), delta, output);
                return;
            case EventType.ContentBlockStop:
                StopBlock((int)Count(data, "index"), output);
                return;
            case EventType.MessageDelta:
                // Grounding goes out before the finish: encoders may close the choice (and its grounding slot) on it.
                if (data.TryGetProperty("grounding_metadata"u8, out var grounding) && JsonText.ToNode(grounding) is { } kept)
                    output.Add(new GroundingReported(0, kept));
                TryObject(data, "delta", out var messageDelta);
                if (Text(messageDelta, "stop_reason") is { } stopReason)
                {
                    output.Add(new ChoiceFinished(0, FinishReasonFor(stopReason)!.Value, stopReason));
                    _finished = true;
                    EndedCleanly = true;
                }
                if (TryObject(data, "usage", out var usage))
                {
                    ReadUsage(usage);
                    output.Add(new UsageReported(CurrentUsage()));
                }
                return;
            case EventType.MessageStop:
                EndedCleanly = true;
                return;
            case EventType.Error:
                // Rare: read as the response decoder reads an error body, from the text.
                throw AnthropicResponseCodec.UpstreamError((JsonObject)JsonNode.Parse(sse.Data)!, sse.Data);
            // ping and unknown events carry nothing canonical.
        }
    }

    /// <summary>The event's <c>type</c>: null when absent or not a string (the SSE event name is used then).</summary>
    public void Complete(List<StreamEvent> output)
    {
        if (!_finished) output.Add(new ChoiceFinished(0, _toolCount > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        _finished = true;
        output.Add(ResponseCompleted.Instance);
    }

    private void StartBlock(int index, JsonElement block, List<StreamEvent> output)
    {
        switch (Text(block, "type"))
        {
            case "text":
                _blocks[index] = new Block(BlockKind.Text);
                if (Text(block, "text") is { Length: > 0 } text) output.Add(new TextDelta(0, text));
                return;
            case "thinking":
                _blocks[index] = new Block(BlockKind.Thinking);
                if (Text(block, "thinking") is { Length: > 0 } thinking) output.Add(new ReasoningDelta(0, thinking));
                if (Text(block, "signature") is { Length: > 0 } signature) output.Add(new ReasoningSignature(0, signature, Dialect.Anthropic));
                return;
            case "redacted_thinking":
                output.Add(new RedactedReasoning(0, Text(block, "data") ?? ""));
                return;
            case "tool_use":
                var toolIndex = _toolCount++;
                _blocks[index] = new Block(BlockKind.ToolUse) { ToolIndex = toolIndex };
                output.Add(new ToolCallStarted(0, toolIndex, Text(block, "id") ?? "", Text(block, "name") ?? ""));
                if (TryObject(block, "input", out var input) && HasMembers(input))
                    output.Add(new ToolCallArgumentsDelta(0, toolIndex, JsonText.Serialize(input)));
                return;
            case "image" when TryObject(block, "source", out var source) && IsString(source, "type", "base64"u8):
                output.Add(new ImageDelta(0, Text(source, "media_type") ?? "image/png", Text(source, "data") ?? ""));
                return;
            default:
                // Copied out: the document is gone when the block stops.
                _blocks[index] = new Block(BlockKind.Native) { Native = (JsonObject)JsonText.ToNode(block)! };
                return;
        }
    }

    private void BlockDelta(int index, JsonElement delta, List<StreamEvent> output)
    {
        if (!_blocks.TryGetValue(index, out var block)
            || !delta.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String) return;
        if (type.ValueEquals("text_delta"u8))
        {
            if (Text(delta, "text") is { Length: > 0 } text) output.Add(new TextDelta(0, text));
        }
        else if (type.ValueEquals("thinking_delta"u8))
        {
            if (Text(delta, "thinking") is { Length: > 0 } thinking) output.Add(new ReasoningDelta(0, thinking));
        }
        else if (type.ValueEquals("signature_delta"u8))
        {
            if (Text(delta, "signature") is { Length: > 0 } signature) output.Add(new ReasoningSignature(0, signature, Dialect.Anthropic));
        }
        else if (type.ValueEquals("input_json_delta"u8))
        {
            if (Text(delta, "partial_json") is not { Length: > 0 } fragment) return;
            if (block.Kind == BlockKind.ToolUse) output.Add(new ToolCallArgumentsDelta(0, block.ToolIndex, fragment));
            else if (block.Kind == BlockKind.Native) (block.NativeInput ??= new StringBuilder()).Append(fragment);
        }
    }

    private static bool HasMembers(JsonElement obj)
    {
        using var members = obj.EnumerateObject();
        return members.MoveNext();
    }

    private static bool IsString(JsonElement obj, string key, ReadOnlySpan<byte> expected) =>
        obj.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(expected);

    private void StopBlock(int index, List<StreamEvent> output)
    {
        if (!_blocks.Remove(index, out var block) || block.Kind != BlockKind.Native || block.Native is null) return;
        if (block.NativeInput is not null && JsonText.TryParse(block.NativeInput.ToString()) is { } input)
            block.Native["input"] = input;
        output.Add(new NativeDelta(0, new NativePart(Dialect.Anthropic, block.Native)));
    }

    /// <summary>Later usage objects override the counts they carry (message_delta repeats or extends message_start).</summary>
    private void ReadUsage(JsonElement usage)
    {
        Override(ref _inputTokens, usage, "input_tokens"u8);
        Override(ref _cacheRead, usage, "cache_read_input_tokens"u8);
        Override(ref _cacheCreation, usage, "cache_creation_input_tokens"u8);
        Override(ref _outputTokens, usage, "output_tokens"u8);
    }

    private static void Override(ref long field, JsonElement usage, ReadOnlySpan<byte> key)
    {
        if (usage.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number) field = ToCount(value);
    }

    private Usage CurrentUsage() => DecodeUsage(_inputTokens, _cacheRead, _cacheCreation, _outputTokens);
}
