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

    public static ChatResponse Decode(JsonNode body)
    {
        if (body is not JsonObject json || json["error"] is JsonObject)
            throw ChatWire.UpstreamError(body is JsonObject ? body["error"] : null, JsonText.Serialize(body));
        var response = new ChatResponse
        {
            Id = JsonRead.AsString(json["id"]) ?? "",
            Model = JsonRead.AsString(json["model"]) ?? "",
            Created = JsonRead.AsLong(json["created"]) ?? 0,
            Usage = ChatWire.ParseUsage(json["usage"]),
        };
        if (json["choices"] is JsonArray choices)
        {
            for (var i = 0; i < choices.Count; i++)
            {
                if (choices[i] is JsonObject choice) response.Choices.Add(DecodeChoice(choice, i));
            }
        }
        foreach (var (key, value) in json)
        {
            if (!KnownFields.Contains(key) && value is not null) response.Extensions[ChatContent.Prefix + key] = value.DeepClone();
        }
        return response;
    }

    private static Choice DecodeChoice(JsonObject json, int position)
    {
        var choice = new Choice
        {
            Index = (int)(JsonRead.AsLong(json["index"]) ?? position),
            GroundingMetadata = json["grounding_metadata"]?.DeepClone(),
        };
        if (JsonRead.AsString(json["finish_reason"]) is { } reason)
        {
            choice.FinishReason = ChatWire.FromWireFinishReason(reason);
            choice.NativeFinishReason = reason;
        }
        if (json["message"] is JsonObject message) choice.Parts = DecodeMessage(message);
        return choice;
    }

    private static List<ContentPart> DecodeMessage(JsonObject message)
    {
        var parts = new List<ContentPart>();
        parts.AddRange(ChatReasoning.Decode(message));
        switch (message["content"])
        {
            case JsonArray items:
                foreach (var item in items)
                {
                    if (JsonRead.AsString(item?["text"]) is { Length: > 0 } itemText) parts.Add(new TextPart(itemText));
                }
                break;
            case var content when JsonRead.AsString(content) is { Length: > 0 } text:
                parts.Add(new TextPart(text));
                break;
        }
        if (message["images"] is JsonArray images)
        {
            foreach (var image in images)
            {
                if (JsonRead.AsString(image?["image_url"]?["url"]) is { } url) parts.Add(ImageFromUrl(url));
            }
        }
        if (message["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls)
            {
                if (call?["function"] is not JsonObject function) continue;
                parts.Add(new ToolCallPart
                {
                    Id = JsonRead.AsString(call["id"]) is { Length: > 0 } id ? id : ChatWire.NewToolCallId(),
                    Name = JsonRead.AsString(function["name"]) ?? "",
                    Arguments = Arguments(function["arguments"]),
                });
            }
        }
        var extras = new JsonObject();
        foreach (var (key, value) in message)
        {
            if (!KnownMessageFields.Contains(key) && value is not null) extras[key] = value.DeepClone();
        }
        if (extras.Count > 0) parts.Add(new NativePart(Dialect.OpenAIChat, extras));
        return parts;
    }

    public static ImagePart ImageFromUrl(string url) => DataUrl.TryParse(url, out var mediaType, out var data)
        ? new ImagePart { MediaType = mediaType, Data = data }
        : new ImagePart { Url = url };

    /// <summary>Arguments are JSON text; some servers send an object instead of a string.</summary>
    public static string Arguments(JsonNode? node) => node switch
    {
        JsonObject obj => JsonText.Serialize(obj),
        _ => JsonRead.AsString(node) is { Length: > 0 } text ? text : "{}",
    };
}
