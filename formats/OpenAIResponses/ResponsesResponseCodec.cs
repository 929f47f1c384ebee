using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>Non-streaming answers: canonical to the client's response object, and an upstream response object to canonical.</summary>
internal static class ResponsesResponseCodec
{
    public static JsonObject Encode(ChatResponse response, ChatRequest request)
    {
        var id = ResponseObject.NormalizeId(response.Id);
        var model = response.Model.Length > 0 ? response.Model : request.Model;
        var body = ResponseObject.Create(id, response.Created > 0 ? response.Created : ResponseObject.NowUnixSeconds(), model, request);
        // Responses has a single answer; other choices cannot be expressed.
        var choice = response.Choices.FirstOrDefault(c => c.Index == 0) ?? response.Choices.FirstOrDefault();
        var output = Output(choice?.Parts ?? [], ResponseObject.ItemIdBase(id));
        if (ResponseObject.IncompleteReason(choice?.FinishReason) is not null && output.Count > 0 && output[^1] is JsonObject last && last.ContainsKey("status"))
            last["status"] = "incomplete";
        ResponseObject.Finish(body, choice?.FinishReason, output, response.Usage, choice?.GroundingMetadata);
        return body;
    }

    /// <summary>Output items in the order the parts were produced; consecutive texts form one message.</summary>
    private static JsonArray Output(List<ContentPart> parts, string idBase)
    {
        var output = new JsonArray();
        JsonObject? openText = null;
        foreach (var part in parts)
        {
            var index = output.Count;
            if (part is not TextPart) openText = null;
            switch (part)
            {
                case ReasoningPart reasoning:
                    var signature = ResponsesItems.OwnSignature(reasoning);
                    if (reasoning.Text.Length == 0 && signature is null) break;
                    var reasoningId = ResponsesExtensions.GetString(reasoning, ResponsesExtensions.Id) ?? $"rs_{idBase}_{index}";
                    output.Add(ResponsesItems.ReasoningItem(reasoningId, reasoning.Text, signature, reasoning));
                    break;
                case TextPart text:
                    var messageId = ResponsesExtensions.GetString(text, ResponsesExtensions.Id);
                    if (openText is not null && messageId is null)
                    {
                        openText["text"] = (string)openText["text"]! + text.Text;
                        break;
                    }
                    openText = ResponsesItems.OutputText(text.Text);
                    output.Add(ResponsesItems.MessageItem(messageId ?? $"msg_{idBase}_{index}", "completed", [openText]));
                    break;
                case ToolCallPart call:
                    var callItemId = ResponsesExtensions.GetString(call, ResponsesExtensions.Id) ?? ResponsesItems.FunctionCallItemId(call.Id);
                    output.Add(ResponsesItems.FunctionCallItem(callItemId, "completed", call.Id, call.Name, call.Arguments));
                    break;
                case ImagePart { Data: { } data } image:
                    output.Add(ResponsesItems.ImageItem($"ig_{idBase}_{index}", "completed", data, image.MediaType));
                    break;
                case NativePart native when native.Dialect == Dialect.OpenAIResponses && !ResponsesExtensions.IsMessageContent(native):
                    output.Add(native.Json.DeepClone());
                    break;
            }
        }
        return output;
    }

    /// <summary>
    /// An upstream response object read in place: nothing kept points into <paramref name="body"/>'s document (strings
    /// are materialized, JSON kept whole is copied out), since the caller disposes it after this call.
    /// </summary>
    public static ChatResponse Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw new UpstreamException(FailureKind.Transient, 502, "upstream returned a Responses body that is not a JSON object");
        // Tolerate a whole response.completed event in place of the bare response object.
        var response = body;
        if (LenientJson.Get(body, "response"u8) is { ValueKind: JsonValueKind.Object } inner
            && Lenient.String(body, "type")?.StartsWith("response.", StringComparison.Ordinal) == true)
            response = inner;
        var status = Lenient.String(response, "status");
        if (status == "failed")
        {
            // Rare: through a DOM as before, so the exception (and its raw body's text) is exactly what it was.
            var failed = (JsonObject)JsonText.ToNode(response)!;
            throw ResponsesErrors.Failure(failed["error"], failed);
        }

        var choice = new Choice { Index = 0, GroundingMetadata = JsonText.ToNode(LenientJson.Get(response, "grounding_metadata"u8)) };
        foreach (var item in Lenient.Objects(LenientJson.Get(response, "output"u8))) ResponsesItems.ReadOutputItem(item, choice.Parts);
        var incompleteReason = LenientJson.String(LenientJson.Get(ObjectOrAbsent(LenientJson.Get(response, "incomplete_details"u8)), "reason"u8));
        choice.FinishReason = FinishReasonFor(status, incompleteReason, choice.Parts.Any(p => p is ToolCallPart));
        choice.NativeFinishReason = incompleteReason ?? status;
        var usage = LenientJson.Get(response, "usage"u8);
        if (usage.ValueKind == JsonValueKind.Object)
        {
            ObjectOrAbsent(LenientJson.Get(usage, "input_tokens_details"u8));
            ObjectOrAbsent(LenientJson.Get(usage, "output_tokens_details"u8));
        }
        return new ChatResponse
        {
            Id = Lenient.String(response, "id") ?? "",
            Model = Lenient.String(response, "model") ?? "",
            Created = Lenient.Long(LenientJson.Get(response, "created_at"u8)) ?? 0,
            Choices = [choice],
            Usage = ResponseObject.ReadUsage(usage),
        };
    }

    /// <summary>
    /// <paramref name="value"/> when it is an object or absent. Anything else throws what the DOM decoder's indexer threw
    /// there (<see cref="InvalidOperationException"/>), so such an answer still fails as it did.
    /// </summary>
    private static JsonElement ObjectOrAbsent(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null) return value;
        JsonText.ToNode(value)!.AsObject();
        return default;
    }

    public static FinishReason FinishReasonFor(string? status, string? incompleteReason, bool sawToolCall) =>
        (status, incompleteReason) switch
        {
            ("incomplete", "max_output_tokens") => FinishReason.Length,
            ("incomplete", "content_filter") => FinishReason.ContentFilter,
            ("incomplete", _) => FinishReason.Other,
            _ when sawToolCall => FinishReason.ToolCalls,
            _ => FinishReason.Stop,
        };
}
