using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Upstream <c>chat.completion</c> body to canonical, read leniently (OpenAI-compatible servers vary). Message fields
/// with no canonical home (<c>refusal</c>, <c>annotations</c>, <c>audio</c>...) become one OpenAIChat
/// <see cref="NativePart"/> holding those fields; top-level extras (<c>system_fingerprint</c>...) become
/// <c>openai.&lt;key&gt;</c> Extensions.
/// </summary>
internal static class ChatResponseDecoder
{
    private static readonly HashSet<string> KnownFields = ["id", "object", "created", "model", "choices", "usage"];

    private static readonly HashSet<string> KnownMessageFields =
        ["role", "content", "reasoning_content", "reasoning", "thinking_blocks", "tool_calls", "images"];

    /// <summary>Reads the answer in place; what the response keeps as JSON (extensions, grounding, native fields) is copied.</summary>
    public static ChatResponse Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || LenientJson.Get(body, "error"u8).ValueKind == JsonValueKind.Object)
        {
            // Rare: the error reader and the raw body stay the DOM's, so the exception is what it always was.
            var node = JsonText.ToNode(body);
            throw ChatWire.UpstreamError(node is JsonObject ? node["error"] : null, JsonText.Serialize(node));
        }
        var response = new ChatResponse
        {
            Id = LenientJson.String(LenientJson.Get(body, "id"u8)) ?? "",
            Model = LenientJson.String(LenientJson.Get(body, "model"u8)) ?? "",
            Created = JsonRead.AsLong(LenientJson.Get(body, "created"u8)) ?? 0,
            Usage = ChatWire.ParseUsage(LenientJson.Get(body, "usage"u8)),
        };
        if (LenientJson.Get(body, "choices"u8) is { ValueKind: JsonValueKind.Array } choices)
        {
            var i = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                var position = i++;
                if (choice.ValueKind == JsonValueKind.Object) response.Choices.Add(DecodeChoice(choice, position));
            }
        }
        foreach (var field in body.EnumerateObject())
        {
            if (field.Value.ValueKind != JsonValueKind.Null && !KnownFields.Contains(field.Name))
                response.Extensions[ChatContent.Prefix + field.Name] = JsonText.ToNode(field.Value);
        }
        return response;
    }

    private static Choice DecodeChoice(JsonElement json, int position)
    {
        var grounding = LenientJson.Get(json, "grounding_metadata"u8);
        var choice = new Choice
        {
            Index = (int)(JsonRead.AsLong(LenientJson.Get(json, "index"u8)) ?? position),
            GroundingMetadata = LenientJson.IsAbsent(grounding) ? null : JsonText.ToNode(grounding),
        };
        if (LenientJson.String(LenientJson.Get(json, "finish_reason"u8)) is { } reason)
        {
            choice.FinishReason = ChatWire.FromWireFinishReason(reason);
            choice.NativeFinishReason = reason;
        }
        if (LenientJson.Get(json, "message"u8) is { ValueKind: JsonValueKind.Object } message) choice.Parts = DecodeMessage(message);
        return choice;
    }

    private static List<ContentPart> DecodeMessage(JsonElement message)
    {
        var parts = new List<ContentPart>();
        ChatReasoning.DecodeUpstream(message, parts);
        var content = LenientJson.Get(message, "content"u8);
        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in content.EnumerateArray())
            {
                if (LenientJson.String(LenientJson.Get(item, "text"u8)) is { Length: > 0 } itemText) parts.Add(new TextPart(itemText));
            }
        }
        else if (LenientJson.String(content) is { Length: > 0 } text)
        {
            parts.Add(new TextPart(text));
        }
        if (LenientJson.Get(message, "images"u8) is { ValueKind: JsonValueKind.Array } images)
        {
            foreach (var image in images.EnumerateArray())
            {
                if (LenientJson.String(LenientJson.Get(LenientJson.Get(image, "image_url"u8), "url"u8)) is { } url) parts.Add(ImageFromUrl(url));
            }
        }
        if (LenientJson.Get(message, "tool_calls"u8) is { ValueKind: JsonValueKind.Array } calls)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (LenientJson.Get(call, "function"u8) is not { ValueKind: JsonValueKind.Object } function) continue;
                parts.Add(new ToolCallPart
                {
                    Id = LenientJson.String(LenientJson.Get(call, "id"u8)) is { Length: > 0 } id ? id : ChatWire.NewToolCallId(),
                    Name = LenientJson.String(LenientJson.Get(function, "name"u8)) ?? "",
                    Arguments = Arguments(LenientJson.Get(function, "arguments"u8)),
                });
            }
        }
        JsonObject? extras = null;
        foreach (var field in message.EnumerateObject())
        {
            if (field.Value.ValueKind != JsonValueKind.Null && !KnownMessageFields.Contains(field.Name))
                (extras ??= [])[field.Name] = JsonText.ToNode(field.Value);
        }
        if (extras is not null) parts.Add(new NativePart(Dialect.OpenAIChat, extras));
        return parts;
    }

    public static ImagePart ImageFromUrl(string url) => DataUrl.TryParse(url, out var mediaType, out var data)
        ? new ImagePart { MediaType = mediaType, Data = data }
        : new ImagePart { Url = url };

    /// <summary>Arguments are JSON text; some servers send an object instead of a string.</summary>
    public static string Arguments(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => JsonText.Serialize(value),
        _ => LenientJson.String(value) is { Length: > 0 } text ? text : "{}",
    };
}
