using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Upstream Responses SSE (OpenAI, a Codex backend) to canonical events. Deltas pass through as they come; the
/// <c>output_item.done</c> of an item whose content never streamed supplies it instead, and if no item events came
/// at all the items of <c>response.completed</c> are used. The event type is read from the data (the
/// <c>event:</c> line is optional). <c>error</c> and <c>response.failed</c> throw an <see cref="Abstractions.Upstream.UpstreamException"/>.
/// Events are read in place from their UTF-8 data (a pooled document, disposed when <see cref="Decode"/> returns):
/// only the strings an event keeps and the JSON it copies out (native items) outlive the call.
/// </summary>
internal sealed class ResponsesStreamDecoder : IStreamDecoder
{
    private enum EventType
    {
        Other,
        Started,
        ItemAdded,
        TextDelta,
        SummaryPartAdded,
        ReasoningDelta,
        ArgumentsDelta,
        ItemDone,
        Completed,
        Incomplete,
        Failed,
        Error,
    }

    /// <summary>The event types read, by their names (the deltas first: nearly every event is one).</summary>
    private static readonly SseEventTypes<EventType> EventTypes = new(
        ("response.output_text.delta", EventType.TextDelta),
        ("response.function_call_arguments.delta", EventType.ArgumentsDelta),
        ("response.reasoning_summary_text.delta", EventType.ReasoningDelta),
        ("response.reasoning_text.delta", EventType.ReasoningDelta),
        ("response.refusal.delta", EventType.TextDelta),
        ("response.created", EventType.Started),
        ("response.in_progress", EventType.Started),
        ("response.output_item.added", EventType.ItemAdded),
        ("response.reasoning_summary_part.added", EventType.SummaryPartAdded),
        ("response.output_item.done", EventType.ItemDone),
        ("response.completed", EventType.Completed),
        ("response.incomplete", EventType.Incomplete),
        ("response.failed", EventType.Failed),
        ("error", EventType.Error));

    private readonly Dictionary<string, int> callsByItemId = [];
    private readonly Dictionary<long, int> callsByOutputIndex = [];
    private readonly HashSet<int> callsWithStreamedArguments = [];
    /// <summary>Items (by output index or id) whose text or reasoning arrived as deltas.</summary>
    private readonly HashSet<string> streamedItems = [];
    private int callCount;
    private bool started;
    private bool sawItemDone;
    private bool finished;
    /// <summary>The item id looked up last (deltas of one call repeat it): matched in place, so no string per delta.</summary>
    private string? lastItemId;
    /// <summary>The key made last for an output index (deltas of one item repeat it).</summary>
    private long? lastKeyPosition;
    private string lastKey = "";

    /// <summary><c>response.completed</c> or <c>response.incomplete</c> arrived (<c>response.failed</c> throws).</summary>
    public bool EndedCleanly { get; private set; }

    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (finished || sse.IsDone) return;
        using var document = LenientJson.TryParse(sse.Utf8Data);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } data) return;
        var type = EventTypes.Of(LenientJson.Get(data, "type"u8), sse.Event);
        switch (type)
        {
            case EventType.Started:
                EnsureStarted(LenientJson.Get(data, "response"u8), output);
                break;
            case EventType.ItemAdded when LenientJson.Get(data, "item"u8) is { ValueKind: JsonValueKind.Object } item:
                EnsureStarted(default, output);
                if (LenientJson.IsString(LenientJson.Get(item, "type"u8), "function_call"u8))
                    StartCall(item, Lenient.Long(LenientJson.Get(data, "output_index"u8)), output);
                break;
            case EventType.TextDelta:
                if (LenientJson.String(LenientJson.Get(data, "delta"u8)) is { Length: > 0 } text)
                {
                    EnsureStarted(default, output);
                    streamedItems.Add(ItemKey(data, default));
                    output.Add(new TextDelta(0, text));
                }
                break;
            case EventType.SummaryPartAdded:
                // Summary parts are joined with a blank line, as in non-stream reasoning items.
                if (Lenient.Long(LenientJson.Get(data, "summary_index"u8)) > 0 && streamedItems.Contains(ItemKey(data, default)))
                    output.Add(new ReasoningDelta(0, "\n\n"));
                break;
            case EventType.ReasoningDelta:
                if (LenientJson.String(LenientJson.Get(data, "delta"u8)) is { Length: > 0 } thought)
                {
                    EnsureStarted(default, output);
                    streamedItems.Add(ItemKey(data, default));
                    output.Add(new ReasoningDelta(0, thought));
                }
                break;
            case EventType.ArgumentsDelta:
                if (LenientJson.String(LenientJson.Get(data, "delta"u8)) is { Length: > 0 } fragment
                    && FindCall(LenientJson.Get(data, "item_id"u8), Lenient.Long(LenientJson.Get(data, "output_index"u8))) is { } index)
                {
                    callsWithStreamedArguments.Add(index);
                    output.Add(new ToolCallArgumentsDelta(0, index, fragment));
                }
                break;
            case EventType.ItemDone when LenientJson.Get(data, "item"u8) is { ValueKind: JsonValueKind.Object } item:
                EnsureStarted(default, output);
                sawItemDone = true;
                FinishItem(item, Lenient.Long(LenientJson.Get(data, "output_index"u8)), ItemKey(data, item), output);
                break;
            case EventType.Completed:
                Finish(LenientJson.Get(data, "response"u8), "completed", output);
                break;
            case EventType.Incomplete:
                Finish(LenientJson.Get(data, "response"u8), "incomplete", output);
                break;
            case EventType.Failed:
            case EventType.Error:
                throw Failure(type, sse.Data);
        }
    }

    public void Complete(List<StreamEvent> output)
    {
        if (started && !finished)
            output.Add(new ChoiceFinished(0, callCount > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        finished = true;
        output.Add(ResponseCompleted.Instance);
    }

    /// <summary>A failure is rare: it is read from text into a DOM, as it always was, for the same exception.</summary>
    private static Exception Failure(EventType type, string text)
    {
        var data = (JsonObject)JsonText.TryParse(text)!;
        return type == EventType.Failed
            ? ResponsesErrors.Failure(data["response"]?["error"], data)
            : ResponsesErrors.Failure(data["error"] ?? data, data);
    }

    private void EnsureStarted(JsonElement response, List<StreamEvent> output)
    {
        if (started) return;
        started = true;
        output.Add(new ResponseStarted(
            LenientJson.String(LenientJson.Get(response, "id"u8)) ?? ResponseObject.NormalizeId(null),
            LenientJson.String(LenientJson.Get(response, "model"u8)) ?? "",
            Lenient.Long(LenientJson.Get(response, "created_at"u8)) ?? ResponseObject.NowUnixSeconds()));
    }

    private int StartCall(JsonElement item, long? outputIndex, List<StreamEvent> output)
    {
        var index = callCount++;
        var itemId = LenientJson.String(LenientJson.Get(item, "id"u8));
        if (itemId is not null) callsByItemId[itemId] = index;
        if (outputIndex is { } position) callsByOutputIndex[position] = index;
        output.Add(new ToolCallStarted(0, index, LenientJson.String(LenientJson.Get(item, "call_id"u8)) ?? itemId ?? "", LenientJson.String(LenientJson.Get(item, "name"u8)) ?? ""));
        return index;
    }

    /// <summary>The call an item id (a string element) or output index names; by id first.</summary>
    private int? FindCall(JsonElement itemId, long? outputIndex)
    {
        if (itemId.ValueKind == JsonValueKind.String)
        {
            // Every delta of a call repeats its id: the id matched last is compared in place before one is read out.
            var id = lastItemId is not null && itemId.ValueEquals(lastItemId) ? lastItemId : itemId.GetString()!;
            if (callsByItemId.TryGetValue(id, out var byId))
            {
                lastItemId = id;
                return byId;
            }
        }
        if (outputIndex is { } position && callsByOutputIndex.TryGetValue(position, out var byIndex)) return byIndex;
        return null;
    }

    /// <summary>Emits what a finished item holds beyond what already streamed.</summary>
    private void FinishItem(JsonElement item, long? outputIndex, string key, List<StreamEvent> output)
    {
        var type = LenientJson.Get(item, "type"u8);
        if (LenientJson.IsString(type, "function_call"u8))
        {
            var index = FindCall(LenientJson.Get(item, "id"u8), outputIndex) ?? StartCall(item, outputIndex, output);
            if (!callsWithStreamedArguments.Contains(index) && LenientJson.String(LenientJson.Get(item, "arguments"u8)) is { Length: > 0 } arguments)
                output.Add(new ToolCallArgumentsDelta(0, index, arguments));
        }
        else if (LenientJson.IsString(type, "reasoning"u8))
        {
            var reasoning = ResponsesItems.ReadReasoning(item);
            if (!streamedItems.Contains(key) && reasoning.Text.Length > 0) output.Add(new ReasoningDelta(0, reasoning.Text));
            if (reasoning.Signature is not null) output.Add(new ReasoningSignature(0, reasoning.Signature, Dialect.OpenAIResponses));
        }
        else if (LenientJson.IsString(type, "message"u8))
        {
            if (streamedItems.Contains(key)) return;
            foreach (var content in Lenient.Objects(LenientJson.Get(item, "content"u8)))
            {
                if ((LenientJson.String(LenientJson.Get(content, "text"u8)) ?? LenientJson.String(LenientJson.Get(content, "refusal"u8))) is { Length: > 0 } text)
                    output.Add(new TextDelta(0, text));
            }
        }
        else
        {
            var parts = new List<ContentPart>();
            ResponsesItems.ReadOutputItem(item, parts);
            foreach (var part in parts)
            {
                output.Add(part switch
                {
                    ImagePart image => new ImageDelta(0, image.MediaType ?? "image/png", image.Data ?? ""),
                    _ => new NativeDelta(0, (NativePart)part),
                });
            }
        }
    }

    /// <param name="response">The event's response object; anything else reads as an empty one.</param>
    private void Finish(JsonElement response, string defaultStatus, List<StreamEvent> output)
    {
        EnsureStarted(response, output);
        if (!sawItemDone)
        {
            var position = 0L;
            foreach (var item in Lenient.Objects(LenientJson.Get(response, "output"u8)))
            {
                FinishItem(item, position, "#" + position, output);
                position++;
            }
        }
        if (LenientJson.Get(response, "grounding_metadata"u8) is { ValueKind: JsonValueKind.Object } grounding)
            output.Add(new GroundingReported(0, JsonText.ToNode(grounding)!));
        if (ResponseObject.ReadUsage(LenientJson.Get(response, "usage"u8)) is { } usage) output.Add(new UsageReported(usage));
        var status = LenientJson.String(LenientJson.Get(response, "status"u8)) ?? defaultStatus;
        var incompleteReason = LenientJson.String(LenientJson.Get(LenientJson.Get(response, "incomplete_details"u8), "reason"u8));
        output.Add(new ChoiceFinished(0, ResponsesResponseCodec.FinishReasonFor(status, incompleteReason, callCount > 0), incompleteReason ?? status));
        finished = true;
        EndedCleanly = true;
    }

    /// <summary>Identifies an item across its events: by output index when given, else by item id.</summary>
    private string ItemKey(JsonElement data, JsonElement item)
    {
        if (Lenient.Long(LenientJson.Get(data, "output_index"u8)) is { } position)
        {
            // The deltas of one item repeat its index: its key is made once.
            if (position != lastKeyPosition)
            {
                lastKeyPosition = position;
                lastKey = "#" + position;
            }
            return lastKey;
        }
        return LenientJson.String(LenientJson.Get(data, "item_id"u8)) ?? LenientJson.String(LenientJson.Get(item, "id"u8)) ?? "";
    }
}
