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
/// </summary>
internal sealed class ResponsesStreamDecoder : IStreamDecoder
{
    private readonly Dictionary<string, int> callsByItemId = [];
    private readonly Dictionary<long, int> callsByOutputIndex = [];
    private readonly HashSet<int> callsWithStreamedArguments = [];
    /// <summary>Items (by output index or id) whose text or reasoning arrived as deltas.</summary>
    private readonly HashSet<string> streamedItems = [];
    private int callCount;
    private bool started;
    private bool sawItemDone;
    private bool finished;

    /// <summary><c>response.completed</c> or <c>response.incomplete</c> arrived (<c>response.failed</c> throws).</summary>
    public bool EndedCleanly { get; private set; }

    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (finished || sse.IsDone || JsonText.TryParse(sse.Data) is not JsonObject data) return;
        switch (Lenient.String(data["type"]) ?? sse.Event)
        {
            case "response.created":
            case "response.in_progress":
                EnsureStarted(data["response"], output);
                break;
            case "response.output_item.added" when Lenient.Object(data["item"]) is { } item:
                EnsureStarted(null, output);
                if (Lenient.String(item["type"]) == "function_call") StartCall(item, Lenient.Long(data["output_index"]), output);
                break;
            case "response.output_text.delta":
            case "response.refusal.delta":
                if (Lenient.String(data["delta"]) is { Length: > 0 } text)
                {
                    EnsureStarted(null, output);
                    streamedItems.Add(ItemKey(data, null));
                    output.Add(new TextDelta(0, text));
                }
                break;
            case "response.reasoning_summary_part.added":
                // Summary parts are joined with a blank line, as in non-stream reasoning items.
                if (Lenient.Long(data["summary_index"]) > 0 && streamedItems.Contains(ItemKey(data, null)))
                    output.Add(new ReasoningDelta(0, "\n\n"));
                break;
            case "response.reasoning_summary_text.delta":
            case "response.reasoning_text.delta":
                if (Lenient.String(data["delta"]) is { Length: > 0 } thought)
                {
                    EnsureStarted(null, output);
                    streamedItems.Add(ItemKey(data, null));
                    output.Add(new ReasoningDelta(0, thought));
                }
                break;
            case "response.function_call_arguments.delta":
                if (Lenient.String(data["delta"]) is { Length: > 0 } fragment && FindCall(Lenient.String(data["item_id"]), Lenient.Long(data["output_index"])) is { } index)
                {
                    callsWithStreamedArguments.Add(index);
                    output.Add(new ToolCallArgumentsDelta(0, index, fragment));
                }
                break;
            case "response.output_item.done" when Lenient.Object(data["item"]) is { } item:
                EnsureStarted(null, output);
                sawItemDone = true;
                FinishItem(item, Lenient.Long(data["output_index"]), ItemKey(data, item), output);
                break;
            case "response.completed":
                Finish(Lenient.Object(data["response"]) ?? [], "completed", output);
                break;
            case "response.incomplete":
                Finish(Lenient.Object(data["response"]) ?? [], "incomplete", output);
                break;
            case "response.failed":
                throw ResponsesErrors.Failure(data["response"]?["error"], data);
            case "error":
                throw ResponsesErrors.Failure(data["error"] ?? data, data);
        }
    }

    public void Complete(List<StreamEvent> output)
    {
        if (started && !finished)
            output.Add(new ChoiceFinished(0, callCount > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        finished = true;
        output.Add(ResponseCompleted.Instance);
    }

    private void EnsureStarted(JsonNode? response, List<StreamEvent> output)
    {
        if (started) return;
        started = true;
        output.Add(new ResponseStarted(
            Lenient.String(response?["id"]) ?? ResponseObject.NormalizeId(null),
            Lenient.String(response?["model"]) ?? "",
            Lenient.Long(response?["created_at"]) ?? ResponseObject.NowUnixSeconds()));
    }

    private int StartCall(JsonObject item, long? outputIndex, List<StreamEvent> output)
    {
        var index = callCount++;
        var itemId = Lenient.String(item["id"]);
        if (itemId is not null) callsByItemId[itemId] = index;
        if (outputIndex is { } position) callsByOutputIndex[position] = index;
        output.Add(new ToolCallStarted(0, index, Lenient.String(item["call_id"]) ?? itemId ?? "", Lenient.String(item["name"]) ?? ""));
        return index;
    }

    private int? FindCall(string? itemId, long? outputIndex)
    {
        if (itemId is not null && callsByItemId.TryGetValue(itemId, out var byId)) return byId;
        if (outputIndex is { } position && callsByOutputIndex.TryGetValue(position, out var byIndex)) return byIndex;
        return null;
    }

    /// <summary>Emits what a finished item holds beyond what already streamed.</summary>
    private void FinishItem(JsonObject item, long? outputIndex, string key, List<StreamEvent> output)
    {
        switch (Lenient.String(item["type"]))
        {
            case "function_call":
                var index = FindCall(Lenient.String(item["id"]), outputIndex) ?? StartCall(item, outputIndex, output);
                if (!callsWithStreamedArguments.Contains(index) && Lenient.String(item["arguments"]) is { Length: > 0 } arguments)
                    output.Add(new ToolCallArgumentsDelta(0, index, arguments));
                break;
            case "reasoning":
                var reasoning = ResponsesItems.ReadReasoning(item);
                if (!streamedItems.Contains(key) && reasoning.Text.Length > 0) output.Add(new ReasoningDelta(0, reasoning.Text));
                if (reasoning.Signature is not null) output.Add(new ReasoningSignature(0, reasoning.Signature, Dialect.OpenAIResponses));
                break;
            case "message":
                if (streamedItems.Contains(key)) break;
                foreach (var content in Lenient.Objects(item["content"]))
                {
                    if ((Lenient.String(content["text"]) ?? Lenient.String(content["refusal"])) is { Length: > 0 } text)
                        output.Add(new TextDelta(0, text));
                }
                break;
            default:
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
                break;
        }
    }

    private void Finish(JsonObject response, string defaultStatus, List<StreamEvent> output)
    {
        EnsureStarted(response, output);
        if (!sawItemDone)
        {
            var position = 0L;
            foreach (var item in Lenient.Objects(response["output"]))
            {
                FinishItem(item, position, "#" + position, output);
                position++;
            }
        }
        if (response["grounding_metadata"] is JsonObject grounding) output.Add(new GroundingReported(0, grounding.DeepClone()));
        if (ResponseObject.ReadUsage(response["usage"]) is { } usage) output.Add(new UsageReported(usage));
        var status = Lenient.String(response["status"]) ?? defaultStatus;
        var incompleteReason = Lenient.String(response["incomplete_details"]?["reason"]);
        output.Add(new ChoiceFinished(0, ResponsesResponseCodec.FinishReasonFor(status, incompleteReason, callCount > 0), incompleteReason ?? status));
        finished = true;
        EndedCleanly = true;
    }

    /// <summary>Identifies an item across its events: by output index when given, else by item id.</summary>
    private static string ItemKey(JsonObject data, JsonObject? item) =>
        Lenient.Long(data["output_index"]) is { } position ? "#" + position
        : Lenient.String(data["item_id"]) ?? Lenient.String(item?["id"]) ?? "";
}
