using System.Text;
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

    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (JsonText.TryParse(sse.Data) is not JsonObject data) return;
        switch (Text(data, "type") ?? sse.Event)
        {
            case "message_start":
                var message = data["message"] as JsonObject;
                output.Add(new ResponseStarted(Text(message, "id") ?? "", Text(message, "model") ?? "", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
                if (message?["usage"] is JsonObject startUsage)
                {
                    ReadUsage(startUsage);
                    output.Add(new UsageReported(CurrentUsage()));
                }
                return;
            case "content_block_start":
                StartBlock((int)Count(data, "index"), data["content_block"] as JsonObject, output);
                return;
            case "content_block_delta":
                BlockDelta((int)Count(data, "index"), data["delta"] as JsonObject, output);
                return;
            case "content_block_stop":
                StopBlock((int)Count(data, "index"), output);
                return;
            case "message_delta":
                // Grounding goes out before the finish: encoders may close the choice (and its grounding slot) on it.
                if (data["grounding_metadata"] is { } grounding) output.Add(new GroundingReported(0, grounding.DeepClone()));
                if (Text(data["delta"] as JsonObject, "stop_reason") is { } stopReason)
                {
                    output.Add(new ChoiceFinished(0, FinishReasonFor(stopReason)!.Value, stopReason));
                    _finished = true;
                    EndedCleanly = true;
                }
                if (data["usage"] is JsonObject usage)
                {
                    ReadUsage(usage);
                    output.Add(new UsageReported(CurrentUsage()));
                }
                return;
            case "message_stop":
                EndedCleanly = true;
                return;
            case "error":
                throw AnthropicResponseCodec.UpstreamError(data, sse.Data);
            // ping and unknown events carry nothing canonical.
        }
    }

    public void Complete(List<StreamEvent> output)
    {
        if (!_finished) output.Add(new ChoiceFinished(0, _toolCount > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        _finished = true;
        output.Add(ResponseCompleted.Instance);
    }

    private void StartBlock(int index, JsonObject? block, List<StreamEvent> output)
    {
        if (block is null) return;
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
                if (block["input"] is JsonObject { Count: > 0 } input)
                    output.Add(new ToolCallArgumentsDelta(0, toolIndex, JsonText.Serialize(input)));
                return;
            case "image" when block["source"] is JsonObject source && Text(source, "type") == "base64":
                output.Add(new ImageDelta(0, Text(source, "media_type") ?? "image/png", Text(source, "data") ?? ""));
                return;
            default:
                _blocks[index] = new Block(BlockKind.Native) { Native = block.DeepClone().AsObject() };
                return;
        }
    }

    private void BlockDelta(int index, JsonObject? delta, List<StreamEvent> output)
    {
        if (delta is null || !_blocks.TryGetValue(index, out var block)) return;
        switch (Text(delta, "type"))
        {
            case "text_delta" when Text(delta, "text") is { Length: > 0 } text:
                output.Add(new TextDelta(0, text));
                return;
            case "thinking_delta" when Text(delta, "thinking") is { Length: > 0 } thinking:
                output.Add(new ReasoningDelta(0, thinking));
                return;
            case "signature_delta" when Text(delta, "signature") is { Length: > 0 } signature:
                output.Add(new ReasoningSignature(0, signature, Dialect.Anthropic));
                return;
            case "input_json_delta" when Text(delta, "partial_json") is { Length: > 0 } fragment:
                if (block.Kind == BlockKind.ToolUse) output.Add(new ToolCallArgumentsDelta(0, block.ToolIndex, fragment));
                else if (block.Kind == BlockKind.Native) (block.NativeInput ??= new StringBuilder()).Append(fragment);
                return;
        }
    }

    private void StopBlock(int index, List<StreamEvent> output)
    {
        if (!_blocks.Remove(index, out var block) || block.Kind != BlockKind.Native || block.Native is null) return;
        if (block.NativeInput is not null && JsonText.TryParse(block.NativeInput.ToString()) is { } input)
            block.Native["input"] = input;
        output.Add(new NativeDelta(0, new NativePart(Dialect.Anthropic, block.Native)));
    }

    /// <summary>Later usage objects override the counts they carry (message_delta repeats or extends message_start).</summary>
    private void ReadUsage(JsonObject usage)
    {
        Override(ref _inputTokens, usage, "input_tokens");
        Override(ref _cacheRead, usage, "cache_read_input_tokens");
        Override(ref _cacheCreation, usage, "cache_creation_input_tokens");
        Override(ref _outputTokens, usage, "output_tokens");
    }

    private static void Override(ref long field, JsonObject usage, string key)
    {
        if (usage[key] is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number) field = Count(usage, key);
    }

    private Usage CurrentUsage() => DecodeUsage(_inputTokens, _cacheRead, _cacheCreation, _outputTokens);
}
