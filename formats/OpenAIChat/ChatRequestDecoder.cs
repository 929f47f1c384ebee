using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Client Chat Completions body to canonical. System and developer messages are hoisted into
/// <see cref="ChatRequest.System"/> in order; their parts carry the message's position as <c>openai.system_message</c>
/// (so encode can regroup them) and, for developer messages, <c>openai.role</c>.
/// Consecutive tool messages become one canonical <see cref="Role.Tool"/> message with several results.
/// Top-level fields without a canonical home are kept as <c>openai.&lt;key&gt;</c> Extensions. Unknown roles, tool_choice
/// modes and response_format types are dropped rather than refused: other dialects never see them.
/// </summary>
internal static class ChatRequestDecoder
{
    /// <summary>Marks that the client used <c>max_completion_tokens</c> (the value itself lives in Sampling).</summary>
    public const string MaxCompletionTokensKey = "openai.max_completion_tokens";

    /// <summary>Gemini server tools, named as chat clients declare them (<c>{"google_search":{}}</c> or <c>{"type":"google_search"}</c>).</summary>
    public static readonly (string Key, ToolKind Kind)[] ServerTools =
    [
        ("google_search", ToolKind.GoogleSearch),
        ("code_execution", ToolKind.CodeExecution),
        ("url_context", ToolKind.UrlContext),
    ];

    private static readonly HashSet<string> KnownFields =
    [
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "temperature", "top_p",
        "top_k", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "n",
        "response_format", "stream", "stream_options", "user",
    ];

    public static ChatRequest Decode(JsonObject body)
    {
        var request = new ChatRequest
        {
            Model = JsonRead.OptionalString(body["model"], "model") ?? "",
            Tools = DecodeTools(JsonRead.OptionalArray(body["tools"], "tools")),
            ParallelToolCalls = JsonRead.OptionalBool(body["parallel_tool_calls"], "parallel_tool_calls"),
            ResponseFormat = DecodeResponseFormat(JsonRead.OptionalObject(body["response_format"], "response_format")),
            Stream = JsonRead.OptionalBool(body["stream"], "stream") ?? false,
            IncludeUsage = JsonRead.OptionalBool(JsonRead.OptionalObject(body["stream_options"], "stream_options")?["include_usage"], "stream_options.include_usage") ?? false,
            User = JsonRead.OptionalString(body["user"], "user"),
        };
        DecodeMessages(body["messages"], request);
        request.ToolChoice = DecodeToolChoice(body["tool_choice"], request.Extensions);
        if (JsonRead.OptionalString(body["reasoning_effort"], "reasoning_effort") is { } effort)
            request.Reasoning = new ReasoningConfig { Effort = effort.Trim().ToLowerInvariant() };
        DecodeSampling(body, request);
        foreach (var (key, value) in body)
        {
            if (!KnownFields.Contains(key) && value is not null) request.Extensions[ChatContent.Prefix + key] = value.DeepClone();
        }
        return request;
    }

    private static void DecodeSampling(JsonObject body, ChatRequest request)
    {
        var sampling = request.Sampling;
        sampling.Temperature = JsonRead.OptionalNumber(body["temperature"], "temperature");
        sampling.TopP = JsonRead.OptionalNumber(body["top_p"], "top_p");
        sampling.TopK = JsonRead.OptionalInt32(body["top_k"], "top_k");
        sampling.Seed = JsonRead.OptionalInteger(body["seed"], "seed");
        sampling.PresencePenalty = JsonRead.OptionalNumber(body["presence_penalty"], "presence_penalty");
        sampling.FrequencyPenalty = JsonRead.OptionalNumber(body["frequency_penalty"], "frequency_penalty");
        sampling.CandidateCount = JsonRead.OptionalInt32(body["n"], "n");
        sampling.StopSequences = DecodeStop(body["stop"]);
        var maxCompletion = JsonRead.OptionalInt32(body["max_completion_tokens"], "max_completion_tokens");
        sampling.MaxOutputTokens = maxCompletion ?? JsonRead.OptionalInt32(body["max_tokens"], "max_tokens");
        if (maxCompletion is not null) request.Extensions[MaxCompletionTokensKey] = maxCompletion.Value;
    }

    /// <summary><c>stop</c> is a string or an array of strings.</summary>
    public static List<string> DecodeStop(JsonNode? stop)
    {
        if (stop is JsonArray array)
        {
            var list = new List<string>(array.Count);
            for (var i = 0; i < array.Count; i++) list.Add(JsonRead.RequiredString(array[i], $"stop[{i}]"));
            return list;
        }
        return JsonRead.OptionalString(stop, "stop") is { } single ? [single] : [];
    }

    private static void DecodeMessages(JsonNode? node, ChatRequest request)
    {
        var messages = JsonRead.OptionalArray(node, "messages") ?? throw new RequestFormatException("'messages' is required");
        // Tool results name their function so dialects that pair by name (Gemini) need no lookup of their own.
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            var field = $"messages[{i}]";
            if (messages[i] is not JsonObject message) throw new RequestFormatException($"'{field}' must be an object");
            var role = JsonRead.RequiredString(message["role"], field + ".role");
            var name = JsonRead.OptionalString(message["name"], field + ".name");
            switch (role)
            {
                case "system" or "developer":
                    request.System.AddRange(DecodeSystem(message, role, name, i, field));
                    break;
                case "user":
                    request.Messages.Add(new Message { Role = Role.User, Name = name, Parts = ChatContent.Decode(message["content"], field + ".content") });
                    break;
                case "assistant":
                    request.Messages.Add(DecodeAssistant(message, name, field, toolNames));
                    break;
                case "tool":
                    var result = DecodeToolResult(message, field, toolNames);
                    if (request.Messages.Count > 0 && request.Messages[^1].Role == Role.Tool) request.Messages[^1].Parts.Add(result);
                    else request.Messages.Add(new Message(Role.Tool, result));
                    break;
                case "function":
                    throw new RequestFormatException($"'{field}.role' \"function\" is deprecated and not supported; use \"tool\" messages");
                default:
                    // A role this codec does not know is dropped, not refused (see the README).
                    break;
            }
        }
    }

    private static List<ContentPart> DecodeSystem(JsonObject message, string role, string? name, int position, string field)
    {
        var parts = ChatContent.Decode(message["content"], field + ".content");
        foreach (var part in parts)
        {
            var extensions = part.Extensions ??= [];
            extensions[ChatContent.SystemMessageKey] = position;
            if (role == "developer") extensions[ChatContent.RoleKey] = role;
            if (name is not null) extensions[ChatContent.NameKey] = name;
        }
        return parts;
    }

    private static Message DecodeAssistant(JsonObject message, string? name, string field, Dictionary<string, string> toolNames)
    {
        var result = new Message { Role = Role.Assistant, Name = name };
        result.Parts.AddRange(ChatReasoning.Decode(message, field));
        result.Parts.AddRange(ChatContent.Decode(message["content"], field + ".content"));
        var calls = JsonRead.OptionalArray(message["tool_calls"], field + ".tool_calls");
        if (calls is null) return result;
        for (var j = 0; j < calls.Count; j++)
        {
            var callField = $"{field}.tool_calls[{j}]";
            if (calls[j] is not JsonObject call) throw new RequestFormatException($"'{callField}' must be an object");
            var type = JsonRead.OptionalString(call["type"], callField + ".type") ?? "function";
            if (type != "function") throw new RequestFormatException($"'{callField}.type' \"{type}\" is not supported");
            var function = JsonRead.OptionalObject(call["function"], callField + ".function")
                ?? throw new RequestFormatException($"'{callField}.function' is required");
            var part = new ToolCallPart
            {
                Id = JsonRead.RequiredString(call["id"], callField + ".id"),
                Name = JsonRead.RequiredString(function["name"], callField + ".function.name"),
                Arguments = DecodeArguments(function["arguments"], callField + ".function.arguments"),
            };
            toolNames[part.Id] = part.Name;
            result.Parts.Add(part);
        }
        return result;
    }

    /// <summary>Arguments are JSON text; an object (sent by some clients) is serialised, absent means no arguments.</summary>
    private static string DecodeArguments(JsonNode? node, string field) => node switch
    {
        null => "{}",
        JsonObject obj => JsonText.Serialize(obj),
        _ => JsonRead.OptionalString(node, field) is { Length: > 0 } text ? text : "{}",
    };

    private static ToolResultPart DecodeToolResult(JsonObject message, string field, Dictionary<string, string> toolNames)
    {
        var id = JsonRead.RequiredString(message["tool_call_id"], field + ".tool_call_id");
        return new ToolResultPart
        {
            ToolCallId = id,
            Name = toolNames.GetValueOrDefault(id),
            Content = ChatContent.Decode(message["content"], field + ".content"),
        };
    }

    private static List<ToolDefinition> DecodeTools(JsonArray? tools)
    {
        if (tools is null) return [];
        var list = new List<ToolDefinition>(tools.Count);
        for (var i = 0; i < tools.Count; i++)
        {
            var field = $"tools[{i}]";
            if (tools[i] is not JsonObject tool) throw new RequestFormatException($"'{field}' must be an object");
            list.Add(DecodeTool(tool, field));
        }
        return list;
    }

    private static ToolDefinition DecodeTool(JsonObject tool, string field)
    {
        var type = JsonRead.OptionalString(tool["type"], field + ".type");
        // Gemini server tools: {"google_search":{}} (the CLIProxyAPI form, any "type") or {"type":"google_search"}.
        foreach (var (key, kind) in ServerTools)
        {
            if (tool.ContainsKey(key) || type == key)
                return new ToolDefinition { Kind = kind, Name = key, Config = tool[key]?.DeepClone() ?? new JsonObject() };
        }
        if (type is not (null or "function"))
            return new ToolDefinition { Kind = ToolKind.Native, Name = type, NativeDialect = Dialect.OpenAIChat, Config = tool.DeepClone() };
        var function = JsonRead.OptionalObject(tool["function"], field + ".function")
            ?? throw new RequestFormatException($"'{field}.function' is required");
        return new ToolDefinition
        {
            Name = JsonRead.RequiredString(function["name"], field + ".function.name"),
            Description = JsonRead.OptionalString(function["description"], field + ".function.description"),
            Parameters = JsonRead.OptionalObject(function["parameters"], field + ".function.parameters")?.DeepClone(),
            Strict = JsonRead.OptionalBool(function["strict"], field + ".function.strict"),
        };
    }

    /// <summary>Function-style choices are canonical; other object forms (allowed_tools, custom) pass through as Extensions.</summary>
    private static ToolChoice? DecodeToolChoice(JsonNode? node, JsonObject extensions)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return value.GetValue<string>() switch
                {
                    "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                    "none" => new ToolChoice { Mode = ToolChoiceMode.None },
                    "required" => new ToolChoice { Mode = ToolChoiceMode.Required },
                    // A mode this codec does not know leaves the upstream's default.
                    _ => null,
                };
            case JsonObject choice:
                var type = JsonRead.RequiredString(choice["type"], "tool_choice.type");
                if (type != "function")
                {
                    extensions[ChatContent.Prefix + "tool_choice"] = choice.DeepClone();
                    return null;
                }
                var function = JsonRead.OptionalObject(choice["function"], "tool_choice.function");
                var name = function is not null
                    ? JsonRead.RequiredString(function["name"], "tool_choice.function.name")
                    : JsonRead.RequiredString(choice["name"], "tool_choice.function.name");
                return new ToolChoice { Mode = ToolChoiceMode.Function, Name = name };
            default:
                throw new RequestFormatException("'tool_choice' must be a string or an object");
        }
    }

    private static ResponseFormat? DecodeResponseFormat(JsonObject? format)
    {
        if (format is null) return null;
        var type = JsonRead.RequiredString(format["type"], "response_format.type");
        switch (type)
        {
            case "text":
                return new ResponseFormat { Kind = ResponseFormatKind.Text };
            case "json_object":
                return new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
            case "json_schema":
                var schema = JsonRead.OptionalObject(format["json_schema"], "response_format.json_schema")
                    ?? throw new RequestFormatException("'response_format.json_schema' is required");
                return new ResponseFormat
                {
                    Kind = ResponseFormatKind.JsonSchema,
                    Name = JsonRead.OptionalString(schema["name"], "response_format.json_schema.name"),
                    Schema = JsonRead.OptionalObject(schema["schema"], "response_format.json_schema.schema")?.DeepClone(),
                    Strict = JsonRead.OptionalBool(schema["strict"], "response_format.json_schema.strict"),
                };
            default:
                // A format this codec does not know is not translated.
                return null;
        }
    }
}
