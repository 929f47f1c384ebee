using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Canonical events to Responses SSE: response.created and response.in_progress, then for each output item
/// output_item.added → its part/delta/done events → output_item.done, and finally response.completed (or
/// response.incomplete) carrying every item, usage and the request echo. One item is open at a time; a change of
/// content kind closes it. Every event has a <c>sequence_number</c> counting from 0, every item its own
/// <c>output_index</c>. Only choice 0 exists in this dialect.
/// </summary>
internal sealed class ResponsesStreamEncoder(ChatRequest request) : IStreamEncoder
{
    private readonly JsonArray finishedItems = [];
    private readonly SseJsonWriter frames = new();
    private JsonObject? response;
    private string idBase = "";
    private int sequence;
    private OpenItem? open;
    private FinishReason? finishReason;
    private Usage? usage;
    private JsonNode? grounding;
    private bool ended;

    public string ContentType => "text/event-stream";

    public void Encode(StreamEvent streamEvent, IBufferWriter<byte> output)
    {
        if (ended) return;
        if (streamEvent is ResponseStarted started)
        {
            if (response is null) Start(started.Id, started.Model, started.Created, output);
            return;
        }
        if (response is null) Start(null, "", 0, output);
        switch (streamEvent)
        {
            case TextDelta { Choice: 0, Text.Length: > 0 } text:
                if (open?.Kind != ItemKind.Message) OpenMessage(output);
                WriteTextDelta(open!, text.Text, output);
                break;
            case ReasoningDelta { Choice: 0, Text.Length: > 0 } reasoning:
                if (open?.Kind != ItemKind.Reasoning) OpenReasoning(output);
                WriteReasoningDelta(open!, reasoning.Text, output);
                break;
            case ReasoningSignature { Choice: 0 } signature:
                // A signature ends its reasoning block; only this dialect's encrypted_content can be forwarded.
                if (signature.Dialect == Dialect.OpenAIResponses)
                {
                    if (open?.Kind != ItemKind.Reasoning) OpenReasoning(output);
                    open!.EncryptedContent = signature.Signature;
                }
                if (open?.Kind == ItemKind.Reasoning) Close("completed", output);
                break;
            case ToolCallStarted { Choice: 0 } call:
                OpenFunctionCall(call, output);
                break;
            case ToolCallArgumentsDelta { Choice: 0, Fragment.Length: > 0 } arguments:
                // Fragments of a call that is no longer open cannot be expressed after its output_item.done.
                if (open is { Kind: ItemKind.FunctionCall } openCall && openCall.CallIndex == arguments.Index)
                    WriteArgumentsDelta(openCall, arguments.Fragment, output);
                break;
            case ImageDelta { Choice: 0 } image:
                WriteWholeItem(ResponsesItems.ImageItem($"ig_{idBase}_{finishedItems.Count}", "in_progress", null, null),
                    ResponsesItems.ImageItem($"ig_{idBase}_{finishedItems.Count}", "completed", image.Data, image.MediaType), output);
                break;
            case NativeDelta { Choice: 0 } native when native.Part.Dialect == Dialect.OpenAIResponses && !ResponsesExtensions.IsMessageContent(native.Part):
                WriteWholeItem(native.Part.Json.DeepClone(), native.Part.Json.DeepClone(), output);
                break;
            case GroundingReported { Choice: 0 } reported:
                grounding = reported.Metadata;
                break;
            case ChoiceFinished { Choice: 0 } finished:
                finishReason = finished.Reason;
                if (open is not null) Close(ResponseObject.IncompleteReason(finished.Reason) is null ? "completed" : "incomplete", output);
                break;
            case UsageReported reportedUsage:
                usage = reportedUsage.Usage;
                break;
            case ResponseCompleted:
                if (open is not null) Close("completed", output);
                ResponseObject.Finish(response!, finishReason, (JsonArray)finishedItems.DeepClone(), usage, grounding);
                var type = (string)response!["status"]! == "incomplete" ? "response.incomplete" : "response.completed";
                Write(output, Event(type, ("response", response.DeepClone())));
                ended = true;
                break;
        }
    }

    /// <summary>
    /// Writes OpenAI's stream <c>error</c> event (what the SDKs type as ResponseErrorEvent), then
    /// <c>response.failed</c> with <c>response.error</c>, which is the event Codex CLI reads a failure from.
    /// </summary>
    public void EncodeError(int status, string message, IBufferWriter<byte> output)
    {
        if (ended) return;
        response ??= ResponseObject.Create(ResponseObject.NormalizeId(null), ResponseObject.NowUnixSeconds(), request.Model, request);
        var code = ResponsesErrors.CodeFor(status);
        Write(output, Event("error", ("code", code), ("message", message), ("param", null)));
        var failed = (JsonObject)response.DeepClone();
        failed["status"] = "failed";
        failed["error"] = new JsonObject { ["code"] = code, ["message"] = message };
        failed["output"] = finishedItems.DeepClone();
        if (usage is not null) failed["usage"] = ResponseObject.WriteUsage(usage);
        Write(output, Event("response.failed", ("response", failed)));
        ended = true;
    }

    private void Start(string? id, string model, long created, IBufferWriter<byte> output)
    {
        var responseId = ResponseObject.NormalizeId(id);
        idBase = ResponseObject.ItemIdBase(responseId);
        response = ResponseObject.Create(responseId, created > 0 ? created : ResponseObject.NowUnixSeconds(), model.Length > 0 ? model : request.Model, request);
        Write(output, Event("response.created", ("response", response.DeepClone())));
        Write(output, Event("response.in_progress", ("response", response.DeepClone())));
    }

    private void OpenMessage(IBufferWriter<byte> output)
    {
        var item = Open(ItemKind.Message, $"msg_{idBase}_{finishedItems.Count}", output);
        Write(output, Event("response.output_item.added", ("output_index", item.OutputIndex),
            ("item", ResponsesItems.MessageItem(item.Id, "in_progress", []))));
        Write(output, Event("response.content_part.added", ("item_id", item.Id), ("output_index", item.OutputIndex),
            ("content_index", 0), ("part", ResponsesItems.OutputText(""))));
    }

    private void WriteTextDelta(OpenItem item, string text, IBufferWriter<byte> output)
    {
        item.Content.Append(text);
        // The per-token event, written straight (same bytes as Event(...) would give).
        var json = frames.Begin(output, "response.output_text.delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "response.output_text.delta"u8);
        json.WriteNumber("sequence_number"u8, sequence++);
        json.WriteString("item_id"u8, item.Id);
        json.WriteNumber("output_index"u8, item.OutputIndex);
        json.WriteNumber("content_index"u8, 0);
        json.WriteString("delta"u8, text);
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        json.WriteEndObject();
        frames.End(output);
    }

    private void OpenReasoning(IBufferWriter<byte> output)
    {
        var item = Open(ItemKind.Reasoning, $"rs_{idBase}_{finishedItems.Count}", output);
        Write(output, Event("response.output_item.added", ("output_index", item.OutputIndex),
            ("item", ResponsesItems.ReasoningItem(item.Id, "", null))));
    }

    private void WriteReasoningDelta(OpenItem item, string text, IBufferWriter<byte> output)
    {
        if (item.Content.Length == 0)
        {
            Write(output, Event("response.reasoning_summary_part.added", ("item_id", item.Id), ("output_index", item.OutputIndex),
                ("summary_index", 0), ("part", ResponsesItems.SummaryText(""))));
        }
        item.Content.Append(text);
        Write(output, Event("response.reasoning_summary_text.delta", ("item_id", item.Id), ("output_index", item.OutputIndex),
            ("summary_index", 0), ("delta", text)));
    }

    private void OpenFunctionCall(ToolCallStarted call, IBufferWriter<byte> output)
    {
        var item = Open(ItemKind.FunctionCall, ResponsesItems.FunctionCallItemId(call.Id), output);
        item.CallIndex = call.Index;
        item.CallId = call.Id;
        item.Name = call.Name;
        Write(output, Event("response.output_item.added", ("output_index", item.OutputIndex),
            ("item", ResponsesItems.FunctionCallItem(item.Id, "in_progress", call.Id, call.Name, ""))));
    }

    private void WriteArgumentsDelta(OpenItem item, string fragment, IBufferWriter<byte> output)
    {
        item.Content.Append(fragment);
        var json = frames.Begin(output, "response.function_call_arguments.delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "response.function_call_arguments.delta"u8);
        json.WriteNumber("sequence_number"u8, sequence++);
        json.WriteString("item_id"u8, item.Id);
        json.WriteNumber("output_index"u8, item.OutputIndex);
        json.WriteString("delta"u8, fragment);
        json.WriteEndObject();
        frames.End(output);
    }

    /// <summary>An item that arrives complete (image, native item): added and done back to back.</summary>
    private void WriteWholeItem(JsonNode added, JsonNode done, IBufferWriter<byte> output)
    {
        if (open is not null) Close("completed", output);
        var index = finishedItems.Count;
        Write(output, Event("response.output_item.added", ("output_index", index), ("item", added)));
        finishedItems.Add(done.DeepClone());
        Write(output, Event("response.output_item.done", ("output_index", index), ("item", done)));
    }

    private OpenItem Open(ItemKind kind, string id, IBufferWriter<byte> output)
    {
        if (open is not null) Close("completed", output);
        open = new OpenItem(kind, finishedItems.Count, id);
        return open;
    }

    /// <summary>Closes the open item with its done events, which carry the full text (never an empty placeholder).</summary>
    private void Close(string status, IBufferWriter<byte> output)
    {
        var item = open!;
        open = null;
        var text = item.Content.ToString();
        JsonObject done;
        switch (item.Kind)
        {
            case ItemKind.Message:
                Write(output, Event("response.output_text.done", ("item_id", item.Id), ("output_index", item.OutputIndex),
                    ("content_index", 0), ("text", text), ("logprobs", new JsonArray())));
                Write(output, Event("response.content_part.done", ("item_id", item.Id), ("output_index", item.OutputIndex),
                    ("content_index", 0), ("part", ResponsesItems.OutputText(text))));
                done = ResponsesItems.MessageItem(item.Id, status, [ResponsesItems.OutputText(text)]);
                break;
            case ItemKind.Reasoning:
                if (text.Length > 0)
                {
                    Write(output, Event("response.reasoning_summary_text.done", ("item_id", item.Id), ("output_index", item.OutputIndex),
                        ("summary_index", 0), ("text", text)));
                    Write(output, Event("response.reasoning_summary_part.done", ("item_id", item.Id), ("output_index", item.OutputIndex),
                        ("summary_index", 0), ("part", ResponsesItems.SummaryText(text))));
                }
                done = ResponsesItems.ReasoningItem(item.Id, text, item.EncryptedContent);
                break;
            default:
                if (text.Length == 0)
                {
                    // A call without arguments still needs valid JSON; the deltas must add up to what done reports.
                    text = "{}";
                    WriteArgumentsDelta(item, text, output);
                }
                Write(output, Event("response.function_call_arguments.done", ("item_id", item.Id), ("output_index", item.OutputIndex),
                    ("arguments", text)));
                done = ResponsesItems.FunctionCallItem(item.Id, status, item.CallId, item.Name, text);
                break;
        }
        finishedItems.Add(done.DeepClone());
        Write(output, Event("response.output_item.done", ("output_index", item.OutputIndex), ("item", done)));
    }

    private JsonObject Event(string type, params (string Key, JsonNode? Value)[] fields)
    {
        var data = new JsonObject { ["type"] = type, ["sequence_number"] = sequence++ };
        foreach (var (key, value) in fields) data[key] = value;
        return data;
    }

    private static void Write(IBufferWriter<byte> output, JsonObject data) => SseWriter.Write(output, (string)data["type"]!, data);

    private enum ItemKind
    {
        Message,
        Reasoning,
        FunctionCall,
    }

    private sealed class OpenItem(ItemKind kind, int outputIndex, string id)
    {
        public ItemKind Kind { get; } = kind;
        public int OutputIndex { get; } = outputIndex;
        public string Id { get; } = id;
        /// <summary>Text, reasoning summary or arguments so far.</summary>
        public StringBuilder Content { get; } = new();
        public string? EncryptedContent { get; set; }
        public int CallIndex { get; set; }
        public string CallId { get; set; } = "";
        public string Name { get; set; } = "";
    }
}
