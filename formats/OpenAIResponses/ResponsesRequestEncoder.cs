using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Canonical request to a Responses body. The pieces that a response object echoes (instructions, tools, tool_choice,
/// reasoning, text) are public so the response writers build them the same way.
/// </summary>
internal static class ResponsesRequestEncoder
{
    private const string SystemSeparator = "\n\n";

    public static JsonObject Encode(ChatRequest request, string upstreamModel)
    {
        var body = new JsonObject { ["model"] = upstreamModel };
        if (Instructions(request) is { } instructions) body["instructions"] = instructions;
        body["input"] = Input(request);
        if (Tools(request) is { Count: > 0 } tools) body["tools"] = tools;
        if (ToolChoice(request.ToolChoice) is { } toolChoice) body["tool_choice"] = toolChoice;
        if (request.ParallelToolCalls is { } parallel) body["parallel_tool_calls"] = parallel;
        if (Reasoning(request.Reasoning) is { } reasoning) body["reasoning"] = reasoning;
        if (request.Sampling.MaxOutputTokens is { } maxTokens) body["max_output_tokens"] = maxTokens;
        if (request.Sampling.Temperature is { } temperature) body["temperature"] = temperature;
        if (request.Sampling.TopP is { } topP) body["top_p"] = topP;
        if (Format(request.ResponseFormat) is { } format) body["text"] = new JsonObject { ["format"] = format };
        if (request.Stream) body["stream"] = true;
        if (request.User is { } user) body["user"] = user;
        WriteExtensions(body, request.Extensions);
        return body;
    }

    /// <summary>The system text that did not come from a system/developer input message, or null when there is none.</summary>
    public static string? Instructions(ChatRequest request)
    {
        var texts = request.System
            .Where(p => ResponsesExtensions.GetString(p, ResponsesExtensions.Role) is null)
            .OfType<TextPart>()
            .Select(p => p.Text)
            .ToList();
        return texts.Count == 0 ? null : string.Join(SystemSeparator, texts);
    }

    private static JsonArray Input(ChatRequest request)
    {
        var writer = new InputWriter();
        foreach (var part in request.System)
        {
            var role = ResponsesExtensions.GetString(part, ResponsesExtensions.Role);
            // Unmarked system text became `instructions`; other unmarked parts (images) need a developer message.
            if (role is not null || part is not TextPart) writer.Add(part, role ?? "developer");
        }
        foreach (var message in request.Messages)
        {
            if (message.Role == Role.System)
            {
                // A mid-conversation system message stays in place as a developer message (tool changes as sentences).
                if (SystemNotes.Text(message) is { } note) writer.AddDeveloperNote(note);
                continue;
            }
            var role = message.Role == Role.Assistant ? "assistant" : "user";
            foreach (var part in message.Parts) writer.Add(part, role);
            writer.EndMessage();
        }
        writer.EndMessage();
        return writer.Items;
    }

    /// <summary>Builds input items, gathering consecutive content parts of one role into one message item.</summary>
    private sealed class InputWriter
    {
        private JsonObject? openMessage;
        private string? openRole;

        public JsonArray Items { get; } = [];

        public void Add(ContentPart part, string role)
        {
            switch (part)
            {
                case ToolCallPart call:
                    EndMessage();
                    var callItem = new JsonObject
                    {
                        ["type"] = "function_call",
                        ["call_id"] = call.Id,
                        ["name"] = call.Name,
                        ["arguments"] = call.Arguments,
                    };
                    if (ResponsesExtensions.GetString(call, ResponsesExtensions.Id) is { } callItemId) callItem["id"] = callItemId;
                    ResponsesExtensions.WriteExtra(call, callItem);
                    Items.Add(callItem);
                    break;
                case ToolResultPart result:
                    EndMessage();
                    var outputItem = new JsonObject
                    {
                        ["type"] = "function_call_output",
                        ["call_id"] = result.ToolCallId,
                        ["output"] = ToolOutput(result.Content),
                    };
                    if (ResponsesExtensions.GetString(result, ResponsesExtensions.Id) is { } outputItemId) outputItem["id"] = outputItemId;
                    ResponsesExtensions.WriteExtra(result, outputItem);
                    Items.Add(outputItem);
                    break;
                case ReasoningPart reasoning:
                    // The API only accepts reasoning it produced (an id or encrypted_content); other dialects' thinking is dropped.
                    var id = ResponsesExtensions.GetString(reasoning, ResponsesExtensions.Id);
                    var signature = ResponsesItems.OwnSignature(reasoning);
                    if (id is null && signature is null) break;
                    EndMessage();
                    var reasoningItem = ResponsesItems.ReasoningItem(id, reasoning.Text, signature, reasoning);
                    ResponsesExtensions.WriteExtra(reasoning, reasoningItem);
                    Items.Add(reasoningItem);
                    break;
                case NativePart native when native.Dialect == Dialect.OpenAIResponses && !ResponsesExtensions.IsMessageContent(native):
                    EndMessage();
                    Items.Add(native.Json.DeepClone());
                    break;
                default:
                    if (ContentPart(part, role == "assistant") is not { } content) break;
                    // A part that starts a wire message (it carries the message's id or extra fields) opens a new item.
                    var startsItem = ResponsesExtensions.Get(part, ResponsesExtensions.Id) is not null || ResponsesExtensions.Get(part, ResponsesExtensions.Extra) is not null;
                    if (openMessage is null || openRole != role || startsItem) StartMessage(role, part);
                    ((JsonArray)openMessage!["content"]!).Add(content);
                    break;
            }
        }

        public void AddDeveloperNote(string text)
        {
            EndMessage();
            Items.Add(new JsonObject
            {
                ["type"] = "message",
                ["role"] = "developer",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
            });
        }

        public void EndMessage()
        {
            openMessage = null;
            openRole = null;
        }

        private void StartMessage(string role, ContentPart first)
        {
            openMessage = new JsonObject { ["type"] = "message", ["role"] = role, ["content"] = new JsonArray() };
            if (ResponsesExtensions.GetString(first, ResponsesExtensions.Id) is { } id) openMessage["id"] = id;
            ResponsesExtensions.WriteExtra(first, openMessage);
            openRole = role;
            Items.Add(openMessage);
        }
    }

    /// <summary>A tool output: a plain string when it is one text (the common case), else a content array.</summary>
    private static JsonNode ToolOutput(List<ContentPart> content)
    {
        if (content.Count == 0) return "";
        if (content is [TextPart only]) return only.Text;
        var array = new JsonArray();
        foreach (var part in content)
        {
            if (ContentPart(part, assistant: false) is { } encoded) array.Add(encoded);
        }
        return array;
    }

    /// <summary>One message content part; null for parts the role cannot carry (images in assistant turns, other dialects' natives).</summary>
    private static JsonNode? ContentPart(ContentPart part, bool assistant) => part switch
    {
        TextPart text => new JsonObject { ["type"] = assistant ? "output_text" : "input_text", ["text"] = text.Text },
        ImagePart image when !assistant => Image(image),
        DocumentPart { Data: null, Url: null, Text: { } text } when !assistant => new JsonObject { ["type"] = "input_text", ["text"] = text },
        DocumentPart document when !assistant => File(document),
        NativePart native when native.Dialect == Dialect.OpenAIResponses => native.Json.DeepClone(),
        _ => null,
    };

    private static JsonObject Image(ImagePart image)
    {
        var item = new JsonObject { ["type"] = "input_image" };
        if (image.Data is not null) item["image_url"] = DataUrl.Build(image.MediaType ?? "image/png", image.Data);
        else if (image.Url is not null) item["image_url"] = image.Url;
        else if (ResponsesExtensions.GetString(image, ResponsesExtensions.FileId) is { } fileId) item["file_id"] = fileId;
        if (image.Detail is not null) item["detail"] = image.Detail;
        return item;
    }

    private static JsonObject File(DocumentPart document)
    {
        var item = new JsonObject { ["type"] = "input_file" };
        if (ResponsesExtensions.GetString(document, ResponsesExtensions.FileId) is { } fileId) item["file_id"] = fileId;
        if (document.Data is not null)
        {
            item["file_data"] = document.MediaType is null ? document.Data : DataUrl.Build(document.MediaType, document.Data);
            // The API wants a filename with inline file data.
            item["filename"] = document.Title ?? "document";
        }
        else if (document.Title is not null)
        {
            item["filename"] = document.Title;
        }
        if (document.Url is not null) item["file_url"] = document.Url;
        return item;
    }

    public static JsonArray Tools(ChatRequest request)
    {
        var tools = new JsonArray();
        foreach (var tool in SystemNotes.DeclaredTools(request))
        {
            if (Tool(tool) is { } encoded) tools.Add(encoded);
        }
        return tools;
    }

    private static JsonObject? Tool(ToolDefinition tool)
    {
        switch (tool.Kind)
        {
            case ToolKind.Function:
                var function = new JsonObject { ["type"] = "function", ["name"] = tool.Name };
                if (tool.Description is not null) function["description"] = tool.Description;
                function["parameters"] = tool.Parameters?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
                // Responses makes functions strict when `strict` is absent; other dialects mean non-strict, so say it.
                function["strict"] = tool.Strict ?? false;
                return function;
            case ToolKind.GoogleSearch:
                return ServerTool("google_search", tool.Config);
            case ToolKind.CodeExecution:
                return ServerTool("code_execution", tool.Config);
            case ToolKind.UrlContext:
                return ServerTool("url_context", tool.Config);
            case ToolKind.Native when tool.NativeDialect == Dialect.OpenAIResponses:
                return tool.Config?.DeepClone() as JsonObject;
            case ToolKind.Native when tool.NativeDialect == Dialect.Anthropic
                                      && Lenient.String(tool.Config?["type"]) is { } type
                                      && type.StartsWith("web_search", StringComparison.Ordinal):
                // Anthropic's server web search has a direct Responses counterpart.
                return new JsonObject { ["type"] = "web_search" };
            default:
                return null;
        }
    }

    private static JsonObject ServerTool(string type, JsonNode? config)
    {
        var tool = new JsonObject { ["type"] = type };
        if (config is JsonObject settings)
        {
            foreach (var (key, value) in settings) tool[key] = value?.DeepClone();
        }
        return tool;
    }

    public static JsonNode? ToolChoice(ToolChoice? choice) => choice?.Mode switch
    {
        null => null,
        ToolChoiceMode.Auto => "auto",
        ToolChoiceMode.None => "none",
        ToolChoiceMode.Required => "required",
        ToolChoiceMode.Function => new JsonObject { ["type"] = "function", ["name"] = choice.Name },
        _ => null,
    };

    public static JsonObject? Reasoning(ReasoningConfig? config)
    {
        if (config is null) return null;
        var effort = config.Effort ?? (config.BudgetTokens is { } budget ? ThinkingLevels.LevelFor(budget) : null);
        var summary = config.Summary ?? (config.IncludeThoughts == true ? "auto" : null);
        var reasoning = new JsonObject();
        // "auto" is not a Responses effort: leaving it out lets the model use its default.
        if (effort is not null && effort != "auto") reasoning["effort"] = effort;
        if (summary is not null) reasoning["summary"] = summary;
        return reasoning.Count == 0 ? null : reasoning;
    }

    public static JsonObject? Format(ResponseFormat? format)
    {
        switch (format?.Kind)
        {
            case null:
                return null;
            case ResponseFormatKind.JsonObject:
                return new JsonObject { ["type"] = "json_object" };
            case ResponseFormatKind.JsonSchema:
                var schema = new JsonObject { ["type"] = "json_schema", ["name"] = format.Name ?? "response" };
                if (format.Schema is not null) schema["schema"] = format.Schema.DeepClone();
                if (format.Strict is { } strict) schema["strict"] = strict;
                return schema;
            default:
                return new JsonObject { ["type"] = "text" };
        }
    }

    /// <summary>
    /// Writes this dialect's extensions (<c>responses.a.b</c> → <c>a.b</c>) into <paramref name="target"/> without
    /// overwriting what the canonical fields produced. Nested keys only go into objects that exist or can be created
    /// directly under the root (<c>text</c>, <c>reasoning</c>).
    /// </summary>
    public static void WriteExtensions(JsonObject target, JsonObject extensions, IReadOnlySet<string>? skip = null)
    {
        foreach (var (key, value) in extensions)
        {
            if (!key.StartsWith(ResponsesExtensions.Prefix, StringComparison.Ordinal)) continue;
            var path = key[ResponsesExtensions.Prefix.Length..].Split('.');
            if (skip is not null && skip.Contains(path[0])) continue;
            var parent = target;
            for (var i = 0; i < path.Length - 1 && parent is not null; i++)
            {
                parent = parent[path[i]] switch
                {
                    JsonObject existing => existing,
                    null when i == 0 => (JsonObject)(parent[path[i]] = new JsonObject()),
                    _ => null,
                };
            }
            if (parent is not null && !parent.ContainsKey(path[^1])) parent[path[^1]] = value?.DeepClone();
        }
    }
}
