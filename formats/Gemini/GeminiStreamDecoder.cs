using System.Text.Json.Nodes;
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

    private sealed class ChoiceState
    {
        public int ToolCalls;
        public bool Finished;
    }

    /// <summary>Every candidate seen has its <c>finishReason</c> (or the prompt was blocked); Gemini has no other end marker.</summary>
    public bool EndedCleanly => _choices.Count > 0 && _choices.Values.All(c => c.Finished);

    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (sse.IsDone) return;
        switch (JsonText.TryParse(sse.Data))
        {
            case JsonObject chunk:
                DecodeChunk(chunk, output);
                break;
            // A body read without alt=sse is one JSON array of chunks.
            case JsonArray chunks:
                foreach (var item in chunks)
                {
                    if (item is JsonObject chunk) DecodeChunk(chunk, output);
                }
                break;
        }
    }

    private void DecodeChunk(JsonObject raw, List<StreamEvent> output)
    {
        var chunk = GeminiResponseCodec.Unwrap(raw);
        GeminiResponseCodec.ThrowIfError(chunk);
        if (!_started)
        {
            _started = true;
            output.Add(new ResponseStarted(
                GeminiJson.AsString(GeminiJson.Get(chunk, "responseId")) ?? GeminiMapping.NewResponseId(),
                GeminiJson.AsString(GeminiJson.Get(chunk, "modelVersion")) ?? "",
                GeminiMapping.ParseCreateTime(GeminiJson.AsString(GeminiJson.Get(chunk, "createTime"))) ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }

        // Usage goes out before the finish events so encoders that close on ChoiceFinished already have it.
        var finishes = new List<StreamEvent>();
        var candidates = GeminiJson.Get(chunk, "candidates") as JsonArray;
        if (candidates is not null)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (candidates[i] is JsonObject candidate) DecodeCandidate(candidate, i, output, finishes);
            }
        }
        if (candidates is not { Count: > 0 }
            && GeminiJson.Get(chunk, "promptFeedback") is JsonObject feedback
            && GeminiJson.AsString(GeminiJson.Get(feedback, "blockReason")) is { } blockReason)
        {
            var state = State(0);
            if (!state.Finished)
            {
                state.Finished = true;
                finishes.Add(new ChoiceFinished(0, FinishReason.ContentFilter, blockReason));
            }
        }
        if (GeminiJson.Get(chunk, "usageMetadata") is JsonObject usage) output.Add(new UsageReported(GeminiMapping.DecodeUsage(usage)));
        output.AddRange(finishes);
    }

    private void DecodeCandidate(JsonObject candidate, int position, List<StreamEvent> output, List<StreamEvent> finishes)
    {
        var index = (int)(GeminiJson.AsLong(GeminiJson.Get(candidate, "index")) ?? position);
        var state = State(index);
        if (GeminiJson.Get(candidate, "content") is JsonObject content && GeminiJson.Get(content, "parts") is JsonArray parts)
        {
            foreach (var node in parts)
            {
                if (node is JsonObject part) DecodePart(part, index, state, output);
            }
        }
        if (GeminiJson.Get(candidate, "groundingMetadata") is { } grounding) output.Add(new GroundingReported(index, grounding.DeepClone()));
        if (GeminiJson.AsString(GeminiJson.Get(candidate, "finishReason")) is { } reason && !state.Finished)
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
    private static void DecodePart(JsonObject part, int choice, ChoiceState state, List<StreamEvent> output)
    {
        var signature = GeminiJson.AsString(GeminiJson.Get(part, "thoughtSignature"));
        if (GeminiJson.Get(part, "functionCall") is JsonObject call)
        {
            var index = state.ToolCalls++;
            var args = GeminiJson.Get(call, "args");
            output.Add(new ToolCallStarted(choice, index,
                GeminiJson.AsString(GeminiJson.Get(call, "id")) ?? GeminiMapping.NewCallId(),
                GeminiJson.AsString(GeminiJson.Get(call, "name")) ?? "",
                signature,
                signature is null ? null : Dialect.Gemini));
            output.Add(new ToolCallArgumentsDelta(choice, index, args is JsonObject ? JsonText.Serialize(args) : "{}"));
            return;
        }
        if (GeminiJson.Get(part, "inlineData") is JsonObject inline && GeminiJson.AsString(GeminiJson.Get(inline, "data")) is { } data)
        {
            var mimeType = GeminiJson.AsString(GeminiJson.Get(inline, "mimeType")) ?? "application/octet-stream";
            output.Add(new ImageDelta(choice, mimeType, data));
        }
        else if (GeminiJson.AsString(GeminiJson.Get(part, "text")) is { } text)
        {
            if (text.Length > 0)
                output.Add(GeminiJson.IsTrue(GeminiJson.Get(part, "thought")) ? new ReasoningDelta(choice, text) : new TextDelta(choice, text));
        }
        else if (!part.All(field => GeminiJson.ToCamel(field.Key) is "thought" or "thoughtSignature"))
        {
            // executableCode, codeExecutionResult, fileData: carried whole, signature included.
            output.Add(new NativeDelta(choice, new NativePart(Dialect.Gemini, part.DeepClone())));
            return;
        }
        if (signature is not null) output.Add(new ReasoningSignature(choice, signature, Dialect.Gemini));
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
