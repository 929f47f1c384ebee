using System.Text;
using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Walks the input items, grouping assistant output items into one turn and tool outputs into one tool turn. Items are
/// read from the client's element; paths such as <c>input[3].content[1]</c> are formatted only for an error.
/// </summary>
internal sealed class ResponsesInputReader(ChatRequest request)
{
    private readonly Dictionary<string, string> callNames = [];

    public void ReadAll(JsonElement items)
    {
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var at = new FieldPath("input", i++);
            if (item.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{at} must be an object");
            var type = RequestFields.String(item, "type", at);
            switch (type)
            {
                // A role key counts even when null (then the role is reported missing), as the key's presence did before.
                case "message":
                case null when item.TryGetProperty("role", out _):
                    ReadMessage(item, at);
                    break;
                case null:
                    throw new RequestFormatException($"{at} needs a type or a role");
                case "function_call":
                    ReadFunctionCall(item, at);
                    break;
                case "function_call_output":
                    ReadFunctionCallOutput(item, at);
                    break;
                case "reasoning":
                    var reasoning = ResponsesItems.ReadReasoning(item);
                    ResponsesExtensions.KeepExtra(item, reasoning, "type", "id", "summary", "encrypted_content", "content");
                    AssistantTurn().Parts.Add(reasoning);
                    break;
                default:
                    // Other item kinds (custom_tool_call, web_search_call, item_reference, ...) pass through verbatim.
                    var turn = type.EndsWith("_output", StringComparison.Ordinal) ? ToolTurn() : AssistantTurn();
                    turn.Parts.Add(new NativePart(Dialect.OpenAIResponses, JsonText.ToNode(item)!));
                    break;
            }
        }
    }

    private void ReadMessage(JsonElement item, FieldPath at)
    {
        var role = RequestFields.RequiredString(item, "role", at);
        var parts = ReadContent(item, "content", at, role == "assistant");
        if (parts.Count > 0)
        {
            if (RequestFields.String(item, "id", at) is { } id) ResponsesExtensions.Set(parts[0], ResponsesExtensions.Id, id);
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

    /// <summary>Field <paramref name="key"/> of <paramref name="item"/> (message content or call output): a string or an array of parts.</summary>
    private static List<ContentPart> ReadContent(JsonElement item, string key, FieldPath itemAt, bool assistant)
    {
        if (!RequestFields.TryGet(item, key, out var content)) return [];
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return [new TextPart(content.GetString()!)];
            case JsonValueKind.Array:
                var parts = new List<ContentPart>(content.GetArrayLength());
                var at = itemAt.Member(key);
                var i = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partAt = at[i++];
                    if (part.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{partAt} must be an object");
                    parts.Add(ReadContentPart(part, partAt, assistant));
                }
                return parts;
            default:
                throw new RequestFormatException($"{itemAt.Member(key)} must be a string or an array");
        }
    }

    private static ContentPart ReadContentPart(JsonElement part, FieldPath at, bool assistant)
    {
        var type = RequestFields.RequiredString(part, "type", at);
        switch (type)
        {
            case "input_text":
            case "output_text":
            case "text":
                return new TextPart(RequestFields.RequiredString(part, "text", at));
            case "input_image" when !assistant:
                return ReadImage(part, at);
            case "input_file" when !assistant:
                return ReadFile(part, at);
            default:
                // refusal, input_audio, ...: kept verbatim and marked as message content.
                var native = new NativePart(Dialect.OpenAIResponses, JsonText.ToNode(part)!);
                ResponsesExtensions.Set(native, ResponsesExtensions.InMessage, true);
                return native;
        }
    }

    private void ReadFunctionCall(JsonElement item, FieldPath at)
    {
        var call = new ToolCallPart
        {
            Id = RequestFields.RequiredString(item, "call_id", at),
            Name = RequestFields.RequiredString(item, "name", at),
            Arguments = ReadArguments(item, at),
        };
        if (RequestFields.String(item, "id", at) is { } id) ResponsesExtensions.Set(call, ResponsesExtensions.Id, id);
        ResponsesExtensions.KeepExtra(item, call, "type", "call_id", "name", "arguments", "id");
        callNames[call.Id] = call.Name;
        AssistantTurn().Parts.Add(call);
    }

    private static string ReadArguments(JsonElement item, FieldPath at)
    {
        if (!RequestFields.TryGet(item, "arguments", out var arguments)) return "{}";
        return arguments.ValueKind switch
        {
            JsonValueKind.String => arguments.GetString()!,
            // Not the documented shape, but unambiguous: an object of arguments, written compact with the default
            // encoder (as the DOM's ToJsonString wrote it).
            // The default encoder, as the DOM's ToJsonString wrote them before.
            JsonValueKind.Object => JsonText.Serialize(arguments, default(JsonWriterOptions)),
            _ => throw new RequestFormatException($"{at.Format("arguments")} must be a string"),
        };
    }

    private void ReadFunctionCallOutput(JsonElement item, FieldPath at)
    {
        var callId = RequestFields.RequiredString(item, "call_id", at);
        var result = new ToolResultPart
        {
            ToolCallId = callId,
            Name = callNames.GetValueOrDefault(callId),
            Content = ReadContent(item, "output", at, assistant: false),
        };
        if (RequestFields.String(item, "id", at) is { } id) ResponsesExtensions.Set(result, ResponsesExtensions.Id, id);
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

    private static ImagePart ReadImage(JsonElement part, FieldPath at)
    {
        var image = new ImagePart { Detail = RequestFields.String(part, "detail", at) };
        if (RequestFields.TryGet(part, "image_url", out var imageUrl))
        {
            if (imageUrl.ValueKind != JsonValueKind.String) throw new RequestFormatException($"{at.Format("image_url")} must be a string");
            if (DataUrl.TryParse(imageUrl, out var mediaType, out var data))
            {
                image.MediaType = mediaType;
                image.Data = data;
            }
            else
            {
                image.Url = imageUrl.GetString();
            }
        }
        else if (RequestFields.String(part, "file_id", at) is { } fileId)
        {
            ResponsesExtensions.Set(image, ResponsesExtensions.FileId, fileId);
        }
        else
        {
            throw new RequestFormatException($"{at} needs image_url or file_id");
        }
        return image;
    }

    private static DocumentPart ReadFile(JsonElement part, FieldPath at)
    {
        var document = new DocumentPart
        {
            Title = RequestFields.String(part, "filename", at),
            Url = RequestFields.String(part, "file_url", at),
        };
        if (RequestFields.TryGet(part, "file_data", out var fileData))
        {
            if (fileData.ValueKind != JsonValueKind.String) throw new RequestFormatException($"{at.Format("file_data")} must be a string");
            if (DataUrl.TryParse(fileData, out var mediaType, out var data))
            {
                document.MediaType = mediaType;
                document.Data = data;
            }
            else
            {
                document.Data = fileData.GetString();
            }
        }
        if (RequestFields.String(part, "file_id", at) is { } fileId)
            ResponsesExtensions.Set(document, ResponsesExtensions.FileId, fileId);
        return document;
    }
}
