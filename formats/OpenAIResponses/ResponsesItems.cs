using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>Output items (reasoning, message, function_call, ...) to canonical parts and back; shared by responses, streams and request history.</summary>
internal static class ResponsesItems
{
    private const string SummarySeparator = "\n\n";

    /// <summary>
    /// A reasoning item (a request's input item, or an upstream answer's or stream's output item) as one part: summaries
    /// joined, <c>encrypted_content</c> as this dialect's signature; what the part keeps as JSON is copied out of the document.
    /// </summary>
    public static ReasoningPart ReadReasoning(JsonElement item)
    {
        var summaryCount = 0;
        string? text = null;
        List<string>? texts = null;
        item.TryGetProperty("summary", out var summary);
        if (summary.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in summary.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object) continue;
                var entryText = Lenient.String(entry, "text") ?? "";
                if (++summaryCount == 1) text = entryText;
                else (texts ??= [text!]).Add(entryText);
            }
        }
        var part = new ReasoningPart { Text = texts is not null ? string.Join(SummarySeparator, texts) : text ?? "" };
        if (Lenient.String(item, "encrypted_content") is { Length: > 0 } signature)
        {
            part.Signature = signature;
            part.SignatureDialect = Dialect.OpenAIResponses;
        }
        if (Lenient.String(item, "id") is { } id) ResponsesExtensions.Set(part, ResponsesExtensions.Id, id);
        if (summaryCount > 1) ResponsesExtensions.Set(part, ResponsesExtensions.Summary, JsonText.ToNode(summary));
        if (item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            ResponsesExtensions.Set(part, ResponsesExtensions.ReasoningContent, JsonText.ToNode(content));
        return part;
    }

    /// <summary>
    /// Appends the parts of one output item of an upstream response or stream event, read in place; what a part keeps
    /// as JSON (a native item) is copied out of the document.
    /// </summary>
    public static void ReadOutputItem(JsonElement item, List<ContentPart> parts)
    {
        var id = LenientJson.String(LenientJson.Get(item, "id"u8));
        var type = LenientJson.Get(item, "type"u8);
        if (LenientJson.IsString(type, "reasoning"u8))
        {
            parts.Add(ReadReasoning(item));
        }
        else if (LenientJson.IsString(type, "message"u8))
        {
            var first = parts.Count;
            foreach (var content in Lenient.Objects(LenientJson.Get(item, "content"u8)))
            {
                var text = LenientJson.String(LenientJson.Get(content, "text"u8)) ?? LenientJson.String(LenientJson.Get(content, "refusal"u8));
                if (text is not null) parts.Add(new TextPart(text));
            }
            if (id is not null && parts.Count > first) ResponsesExtensions.Set(parts[first], ResponsesExtensions.Id, id);
        }
        else if (LenientJson.IsString(type, "function_call"u8))
        {
            var call = new ToolCallPart
            {
                Id = LenientJson.String(LenientJson.Get(item, "call_id"u8)) ?? id ?? "",
                Name = LenientJson.String(LenientJson.Get(item, "name"u8)) ?? "",
                Arguments = LenientJson.String(LenientJson.Get(item, "arguments"u8)) is { Length: > 0 } arguments ? arguments : "{}",
            };
            if (id is not null) ResponsesExtensions.Set(call, ResponsesExtensions.Id, id);
            parts.Add(call);
        }
        else if (LenientJson.IsString(type, "image_generation_call"u8) && LenientJson.String(LenientJson.Get(item, "result"u8)) is { Length: > 0 } result)
        {
            parts.Add(new ImagePart { Data = result, MediaType = "image/" + (LenientJson.String(LenientJson.Get(item, "output_format"u8)) ?? "png") });
        }
        else
        {
            parts.Add(new NativePart(Dialect.OpenAIResponses, JsonText.ToNode(item)!));
        }
    }

    /// <summary>A reasoning item; <paramref name="source"/> supplies a kept summary array and raw content when the part came from this dialect.</summary>
    public static JsonObject ReasoningItem(string? id, string text, string? encryptedContent, ReasoningPart? source = null)
    {
        var item = new JsonObject();
        if (id is not null) item["id"] = id;
        item["type"] = "reasoning";
        item["summary"] = source is not null && ResponsesExtensions.Get(source, ResponsesExtensions.Summary) is { } summary
            ? summary.DeepClone()
            : Summary(text);
        if (source is not null && ResponsesExtensions.Get(source, ResponsesExtensions.ReasoningContent) is { } content)
            item["content"] = content.DeepClone();
        if (encryptedContent is not null) item["encrypted_content"] = encryptedContent;
        return item;
    }

    public static JsonArray Summary(string text) =>
        text.Length == 0 ? [] : [SummaryText(text)];

    public static JsonObject SummaryText(string text) => new() { ["type"] = "summary_text", ["text"] = text };

    public static JsonObject OutputText(string text) => new()
    {
        ["type"] = "output_text",
        ["annotations"] = new JsonArray(),
        ["logprobs"] = new JsonArray(),
        ["text"] = text,
    };

    public static JsonObject MessageItem(string id, string status, JsonArray content) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["status"] = status,
        ["content"] = content,
        ["role"] = "assistant",
    };

    public static JsonObject FunctionCallItem(string id, string status, string callId, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function_call",
        ["status"] = status,
        ["arguments"] = arguments,
        ["call_id"] = callId,
        ["name"] = name,
    };

    public static JsonObject ImageItem(string id, string status, string? base64, string? mediaType)
    {
        var item = new JsonObject { ["id"] = id, ["type"] = "image_generation_call", ["status"] = status };
        if (base64 is not null)
        {
            item["output_format"] = mediaType is not null && mediaType.StartsWith("image/", StringComparison.Ordinal) ? mediaType[6..] : "png";
            item["result"] = base64;
        }
        return item;
    }

    /// <summary>The <c>encrypted_content</c> to write for a reasoning part: only a signature minted by this dialect.</summary>
    public static string? OwnSignature(ReasoningPart part) =>
        part.SignatureDialect == Dialect.OpenAIResponses && !string.IsNullOrEmpty(part.Signature) ? part.Signature : null;

    /// <summary>Function call item ids follow OpenAI's <c>fc_</c> prefix, derived from the call id so they are stable.</summary>
    public static string FunctionCallItemId(string callId) => callId.StartsWith("fc_", StringComparison.Ordinal) ? callId : "fc_" + callId;
}
