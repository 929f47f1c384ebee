using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;

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

    public static ChatResponse Decode(JsonNode body)
    {
        if (body is not JsonObject response)
            throw new UpstreamException(FailureKind.Transient, 502, "upstream returned a Responses body that is not a JSON object");
        // Tolerate a whole response.completed event in place of the bare response object.
        if (response["response"] is JsonObject inner && Lenient.String(response["type"])?.StartsWith("response.", StringComparison.Ordinal) == true)
            response = inner;
        var status = Lenient.String(response["status"]);
        if (status == "failed")
            throw ResponsesErrors.Failure(response["error"], response);

        var choice = new Choice { Index = 0, GroundingMetadata = response["grounding_metadata"]?.DeepClone() };
        foreach (var item in Lenient.Objects(response["output"])) ResponsesItems.ReadOutputItem(item, choice.Parts);
        var incompleteReason = Lenient.String(response["incomplete_details"]?["reason"]);
        choice.FinishReason = FinishReasonFor(status, incompleteReason, choice.Parts.Any(p => p is ToolCallPart));
        choice.NativeFinishReason = incompleteReason ?? status;
        return new ChatResponse
        {
            Id = Lenient.String(response["id"]) ?? "",
            Model = Lenient.String(response["model"]) ?? "",
            Created = Lenient.Long(response["created_at"]) ?? 0,
            Choices = [choice],
            Usage = ResponseObject.ReadUsage(response["usage"]),
        };
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
