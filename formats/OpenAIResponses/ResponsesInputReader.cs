using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>Walks the input items, grouping assistant output items into one turn and tool outputs into one tool turn.</summary>
internal sealed class ResponsesInputReader(ChatRequest request)
{
    private readonly Dictionary<string, string> callNames = [];

    public void ReadAll(JsonArray items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"input[{i}]";
            if (items[i] is not JsonObject item) throw new RequestFormatException($"{path} must be an object");
            var type = RequestFields.String(item, "type", path + ".type");
            switch (type)
            {
                case "message":
                case null when item.ContainsKey("role"):
                    ReadMessage(item, path);
                    break;
                case null:
                    throw new RequestFormatException($"{path} needs a type or a role");
                case "function_call":
                    ReadFunctionCall(item, path);
                    break;
                case "function_call_output":
                    ReadFunctionCallOutput(item, path);
                    break;
                case "reasoning":
                    var reasoning = ResponsesItems.ReadReasoning(item);
                    ResponsesExtensions.KeepExtra(item, reasoning, "type", "id", "summary", "encrypted_content", "content");
                    AssistantTurn().Parts.Add(reasoning);
                    break;
                default:
                    // Other item kinds (custom_tool_call, web_search_call, item_reference, ...) pass through verbatim.
                    var turn = type.EndsWith("_output", StringComparison.Ordinal) ? ToolTurn() : AssistantTurn();
                    turn.Parts.Add(new NativePart(Dialect.OpenAIResponses, item.DeepClone()));
                    break;
            }
        }
    }

    private void ReadMessage(JsonObject item, string path)
    {
        var role = RequestFields.RequiredString(item, "role", path + ".role");
        var parts = ReadContent(item["content"], path + ".content", role == "assistant");
        if (parts.Count > 0)
        {
            if (RequestFields.String(item, "id", path + ".id") is { } id) ResponsesExtensions.Set(parts[0], ResponsesExtensions.Id, id);
            ResponsesExtensions.KeepExtra(item, parts[0], "type", "role", "content", "id");
        }
        switch (role)
        {
            case "user":
                request.Messages.Add(new Message { Role = Role.User, Parts = parts });
                break;
            case "assistant":
                AssistantTurn().Parts.AddRange(parts);
                break;
            case "system":
            case "developer":
                // Canonical has one system prompt; the role is kept so the message can be re-emitted as it came.
                foreach (var part in parts) ResponsesExtensions.Set(part, ResponsesExtensions.Role, role);
                request.System.AddRange(parts);
                break;
            default:
                // A role this codec does not know is dropped, not refused.
                break;
        }
    }

    private static List<ContentPart> ReadContent(JsonNode? content, string path, bool assistant)
    {
        switch (content)
        {
            case null:
                return [];
            case JsonValue value when Lenient.String(value) is { } text:
                return [new TextPart(text)];
            case JsonArray array:
                var parts = new List<ContentPart>(array.Count);
                for (var i = 0; i < array.Count; i++)
                {
                    var partPath = $"{path}[{i}]";
                    if (array[i] is not JsonObject part) throw new RequestFormatException($"{partPath} must be an object");
                    parts.Add(ReadContentPart(part, partPath, assistant));
                }
                return parts;
            default:
                throw new RequestFormatException($"{path} must be a string or an array");
        }
    }

    private static ContentPart ReadContentPart(JsonObject part, string path, bool assistant)
    {
        var type = RequestFields.RequiredString(part, "type", path + ".type");
        switch (type)
        {
            case "input_text":
            case "output_text":
            case "text":
                return new TextPart(RequestFields.RequiredString(part, "text", path + ".text"));
            case "input_image" when !assistant:
                return ReadImage(part, path);
            case "input_file" when !assistant:
                return ReadFile(part, path);
            default:
                // refusal, input_audio, ...: kept verbatim and marked as message content.
                var native = new NativePart(Dialect.OpenAIResponses, part.DeepClone());
                ResponsesExtensions.Set(native, ResponsesExtensions.InMessage, true);
                return native;
        }
    }

    private void ReadFunctionCall(JsonObject item, string path)
    {
        var call = new ToolCallPart
        {
            Id = RequestFields.RequiredString(item, "call_id", path + ".call_id"),
            Name = RequestFields.RequiredString(item, "name", path + ".name"),
            Arguments = item["arguments"] switch
            {
                null => "{}",
                JsonValue v when Lenient.String(v) is { } text => text,
                // Not the documented shape, but unambiguous: an object of arguments.
                JsonObject o => o.ToJsonString(),
                _ => throw new RequestFormatException($"{path}.arguments must be a string"),
            },
        };
        if (RequestFields.String(item, "id", path + ".id") is { } id) ResponsesExtensions.Set(call, ResponsesExtensions.Id, id);
        ResponsesExtensions.KeepExtra(item, call, "type", "call_id", "name", "arguments", "id");
        callNames[call.Id] = call.Name;
        AssistantTurn().Parts.Add(call);
    }

    private void ReadFunctionCallOutput(JsonObject item, string path)
    {
        var callId = RequestFields.RequiredString(item, "call_id", path + ".call_id");
        var result = new ToolResultPart
        {
            ToolCallId = callId,
            Name = callNames.GetValueOrDefault(callId),
            Content = ReadContent(item["output"], path + ".output", assistant: false),
        };
        if (RequestFields.String(item, "id", path + ".id") is { } id) ResponsesExtensions.Set(result, ResponsesExtensions.Id, id);
        ResponsesExtensions.KeepExtra(item, result, "type", "call_id", "output", "id");
        ToolTurn().Parts.Add(result);
    }

    private Message AssistantTurn() => CurrentTurn(Role.Assistant);

    private Message ToolTurn() => CurrentTurn(Role.Tool);

    private Message CurrentTurn(Role role)
    {
        if (request.Messages.Count > 0 && request.Messages[^1].Role == role) return request.Messages[^1];
        var message = new Message { Role = role };
        request.Messages.Add(message);
        return message;
    }

    private static ImagePart ReadImage(JsonObject part, string path)
    {
        var image = new ImagePart { Detail = RequestFields.String(part, "detail", path + ".detail") };
        if (RequestFields.String(part, "image_url", path + ".image_url") is { } url)
        {
            if (DataUrl.TryParse(url, out var mediaType, out var data))
            {
                image.MediaType = mediaType;
                image.Data = data;
            }
            else
            {
                image.Url = url;
            }
        }
        else if (RequestFields.String(part, "file_id", path + ".file_id") is { } fileId)
        {
            ResponsesExtensions.Set(image, ResponsesExtensions.FileId, fileId);
        }
        else
        {
            throw new RequestFormatException($"{path} needs image_url or file_id");
        }
        return image;
    }

    private static DocumentPart ReadFile(JsonObject part, string path)
    {
        var document = new DocumentPart
        {
            Title = RequestFields.String(part, "filename", path + ".filename"),
            Url = RequestFields.String(part, "file_url", path + ".file_url"),
        };
        if (RequestFields.String(part, "file_data", path + ".file_data") is { } fileData)
        {
            if (DataUrl.TryParse(fileData, out var mediaType, out var data))
            {
                document.MediaType = mediaType;
                document.Data = data;
            }
            else
            {
                document.Data = fileData;
            }
        }
        if (RequestFields.String(part, "file_id", path + ".file_id") is { } fileId)
            ResponsesExtensions.Set(document, ResponsesExtensions.FileId, fileId);
        return document;
    }
}
