using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// Upstream <c>streamGenerateContent?alt=sse</c>: every event is a whole GenerateContentResponse holding the next
/// parts of each candidate. Function calls arrive complete, so each becomes a start plus one argument fragment.
/// </summary>
internal sealed class GeminiStreamDecoder : IStreamDecoder
{
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private bool _started;
    private readonly List<StreamEvent> _finishes = [];

    private sealed class ChoiceState
    {
        public int ToolCalls;
        public bool Finished;
    }

    /// <summary>Every candidate seen has its <c>finishReason</c> (or the prompt was blocked); Gemini has no other end marker.</summary>
    public bool EndedCleanly => _choices.Count > 0 && _choices.Values.All(c => c.Finished);

    /// <summary>
    /// Reads the event's UTF-8 data as a pooled document: nothing kept points into it (strings are materialized, JSON
    /// kept whole is copied out) since the reader reuses its buffer after this call.
    /// </summary>
    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (sse.IsDone) return;
        using var document = LenientJson.TryParse(sse.Utf8Data);
        if (document is null) return;
        var root = document.RootElement;
        switch (root.ValueKind)
        {
            case JsonValueKind.Object:
                DecodeChunk(root, output);
                break;
            // A body read without alt=sse is one JSON array of chunks.
            case JsonValueKind.Array:
                foreach (var item in root.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object) DecodeChunk(item, output);
                }
                break;
        }
    }

    private void DecodeChunk(JsonElement raw, List<StreamEvent> output)
    {
        var chunk = GeminiResponseCodec.Unwrap(raw);
        GeminiResponseCodec.ThrowIfError(chunk);
        if (!_started)
        {
            _started = true;
            output.Add(new ResponseStarted(
                GeminiJson.String(chunk, "responseId") ?? GeminiMapping.NewResponseId(),
                GeminiJson.String(chunk, "modelVersion") ?? "",
                GeminiMapping.ParseCreateTime(GeminiJson.String(chunk, "createTime")) ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }

        // Usage goes out before the finish events so encoders that close on ChoiceFinished already have it.
        var finishes = _finishes;
        finishes.Clear();
        var candidateCount = 0;
        if (GeminiElement.TryGet(chunk, "candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array)
        {
            foreach (var candidate in candidates.EnumerateArray())
            {
                if (candidate.ValueKind == JsonValueKind.Object) DecodeCandidate(candidate, candidateCount, output, finishes);
                candidateCount++;
            }
        }
        if (candidateCount == 0
            && GeminiJson.TryObject(chunk, "promptFeedback", out var feedback)
            && GeminiJson.String(feedback, "blockReason") is { } blockReason)
        {
            var state = State(0);
            if (!state.Finished)
            {
                state.Finished = true;
                finishes.Add(new ChoiceFinished(0, FinishReason.ContentFilter, blockReason));
            }
        }
        if (GeminiJson.TryObject(chunk, "usageMetadata", out var usage)) output.Add(new UsageReported(GeminiMapping.DecodeUsage(usage)));
        output.AddRange(finishes);
        finishes.Clear();
    }

    private void DecodeCandidate(JsonElement candidate, int position, List<StreamEvent> output, List<StreamEvent> finishes)
    {
        var index = (int)(GeminiJson.Long(candidate, "index") ?? position);
        var state = State(index);
        if (GeminiJson.TryObject(candidate, "content", out var content)
            && GeminiElement.TryGet(content, "parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object) DecodePart(part, index, state, output);
            }
        }
        // Copied out: the document is gone after this event.
        if (GeminiElement.TryGet(candidate, "groundingMetadata", out var grounding) && JsonText.ToNode(grounding) is { } kept)
            output.Add(new GroundingReported(index, kept));
        if (GeminiJson.String(candidate, "finishReason") is { } reason && !state.Finished)
        {
            state.Finished = true;
            finishes.Add(new ChoiceFinished(index, GeminiMapping.DecodeFinishReason(reason, state.ToolCalls > 0), reason));
        }
    }

    /// <summary>
    /// A function call's signature travels on its <see cref="ToolCallStarted"/>. Canonical events have no slot for a
    /// signature on a text part, so that one is sent as a Gemini <see cref="ReasoningSignature"/> right after the
    /// part it closed.
    /// </summary>
    private static void DecodePart(JsonElement part, int choice, ChoiceState state, List<StreamEvent> output)
    {
        var signature = GeminiJson.String(part, "thoughtSignature");
        if (GeminiJson.TryObject(part, "functionCall", out var call))
        {
            var index = state.ToolCalls++;
            var hasArgs = GeminiJson.TryObject(call, "args", out var args);
            output.Add(new ToolCallStarted(choice, index,
                GeminiJson.String(call, "id") ?? GeminiMapping.NewCallId(),
                GeminiJson.String(call, "name") ?? "",
                signature,
                signature is null ? null : Dialect.Gemini));
            output.Add(new ToolCallArgumentsDelta(choice, index, hasArgs ? JsonText.Serialize(args) : "{}"));
            return;
        }
        if (GeminiJson.TryObject(part, "inlineData", out var inline) && GeminiJson.String(inline, "data") is { } data)
        {
            var mimeType = GeminiJson.String(inline, "mimeType") ?? "application/octet-stream";
            output.Add(new ImageDelta(choice, mimeType, data));
        }
        else if (GeminiJson.String(part, "text") is { } text)
        {
            if (text.Length > 0)
                output.Add(GeminiElement.TryGet(part, "thought", out var thought) && thought.ValueKind == JsonValueKind.True
                    ? new ReasoningDelta(choice, text)
                    : new TextDelta(choice, text));
        }
        else if (!OnlySignature(part))
        {
            // executableCode, codeExecutionResult, fileData: carried whole (copied out), signature included.
            output.Add(new NativeDelta(choice, new NativePart(Dialect.Gemini, JsonText.ToNode(part)!)));
            return;
        }
        if (signature is not null) output.Add(new ReasoningSignature(choice, signature, Dialect.Gemini));
    }

    /// <summary>True when every key is <c>thought</c> or <c>thoughtSignature</c> (in either spelling), or there is none.</summary>
    private static bool OnlySignature(JsonElement part)
    {
        foreach (var field in part.EnumerateObject())
        {
            if (field.NameEquals("thought"u8) || field.NameEquals("thoughtSignature"u8)) continue;
            // Rare (a native part, or a snake_case upstream): the name is read to spell it as the DOM reader did.
            if (GeminiJson.ToCamel(field.Name) is not ("thought" or "thoughtSignature")) return false;
        }
        return true;
    }

    public void Complete(List<StreamEvent> output)
    {
        if (!_started)
        {
            _started = true;
            output.Add(new ResponseStarted(GeminiMapping.NewResponseId(), "", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }
        if (_choices.Count == 0) State(0);
        foreach (var (index, state) in _choices)
        {
            // Finished is left alone: it records what the upstream said (EndedCleanly).
            if (state.Finished) continue;
            output.Add(new ChoiceFinished(index, state.ToolCalls > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        }
        output.Add(ResponseCompleted.Instance);
    }

    private ChoiceState State(int index)
    {
        if (!_choices.TryGetValue(index, out var state)) _choices[index] = state = new ChoiceState();
        return state;
    }
}
