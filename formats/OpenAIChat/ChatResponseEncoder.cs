using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Canonical answer to a client's <c>chat.completion</c> body. Non-standard fields, each only when there is
/// something to say: <c>message.reasoning_content</c>, <c>message.images</c> (CLIProxyAPI convention, data URLs)
/// and <c>choices[i].grounding_metadata</c> (the Gemini object verbatim).
/// </summary>
internal static class ChatResponseEncoder
{
    public static JsonObject Encode(ChatResponse response, ChatRequest request)
    {
        var choices = new JsonArray();
        foreach (var choice in response.Choices) choices.Add(EncodeChoice(choice));
        var body = new JsonObject
        {
            ["id"] = response.Id.Length > 0 ? response.Id : ChatWire.NewCompletionId("chatcmpl-"),
            ["object"] = "chat.completion",
            ["created"] = response.Created > 0 ? response.Created : ChatWire.Now(),
            ["model"] = response.Model.Length > 0 ? response.Model : request.Model,
            ["choices"] = choices,
        };
        if (response.Usage is { } usage) body["usage"] = ChatWire.UsageJson(usage);
        foreach (var (key, value) in response.Extensions)
        {
            if (!key.StartsWith(ChatContent.Prefix, StringComparison.Ordinal)) continue;
            var name = key[ChatContent.Prefix.Length..];
            if (!body.ContainsKey(name)) body[name] = value?.DeepClone();
        }
        return body;
    }

    private static JsonObject EncodeChoice(Choice choice)
    {
        StringBuilder? text = null;
        var calls = new JsonArray();
        var images = new JsonArray();
        var native = new List<JsonObject>();
        foreach (var part in choice.Parts)
        {
            switch (part)
            {
                case TextPart t:
                    (text ??= new StringBuilder()).Append(t.Text);
                    break;
                case ToolCallPart call:
                    calls.Add(new JsonObject
                    {
                        ["id"] = call.Id,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
                    });
                    break;
                case ImagePart image when (image.Data is not null ? DataUrl.Build(image.MediaType, image.Data) : image.Url) is { } url:
                    images.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                    break;
                case NativePart { Dialect: Dialect.OpenAIChat, Json: JsonObject fields } when !fields.ContainsKey("type"):
                    native.Add(fields);
                    break;
            }
        }
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = text?.ToString() ?? (calls.Count > 0 || images.Count > 0 || native.Count > 0 ? null : ""),
        };
        ChatReasoning.Encode([.. choice.Parts.OfType<ReasoningPart>()], message);
        if (calls.Count > 0) message["tool_calls"] = calls;
        if (images.Count > 0) message["images"] = images;
        foreach (var fields in native)
        {
            foreach (var (key, value) in fields)
            {
                if (!message.ContainsKey(key)) message[key] = value?.DeepClone();
            }
        }
        var json = new JsonObject
        {
            ["index"] = choice.Index,
            ["message"] = message,
            ["finish_reason"] = ChatWire.ToWireFinishReason(choice.FinishReason, calls.Count > 0),
            ["logprobs"] = null,
        };
        if (choice.GroundingMetadata is not null) json["grounding_metadata"] = choice.GroundingMetadata.DeepClone();
        return json;
    }
}
