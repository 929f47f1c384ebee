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

    // Top-level keys with a canonical home (everything else is an Extension); compared as UTF-8 so no key is read out.
    private static readonly byte[][] KnownFields =
    [
        .. new[]
        {
            "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "temperature", "top_p",
            "top_k", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "n",
            "response_format", "stream", "stream_options", "user",
        }.Select(System.Text.Encoding.UTF8.GetBytes),
    ];

    /// <summary>
    /// Decodes a client body in place. Everything the result keeps is copied out of <paramref name="body"/>'s document
    /// (strings, and <see cref="JsonText.ToNode"/> for JSON), so the caller may dispose the document on return.
    /// Fields are read in a fixed order, so of several errors the same one is reported each time.
    /// </summary>
    public static ChatRequest Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new RequestFormatException("the request body must be a JSON object");
        var request = new ChatRequest
        {
            Model = JsonRead.OptionalString(JsonRead.Get(body, "model"u8), new("model")) ?? "",
            Tools = DecodeTools(JsonRead.Get(body, "tools"u8)),
            ParallelToolCalls = JsonRead.OptionalBool(JsonRead.Get(body, "parallel_tool_calls"u8), new("parallel_tool_calls")),
            ResponseFormat = DecodeResponseFormat(JsonRead.Get(body, "response_format"u8)),
            Stream = JsonRead.OptionalBool(JsonRead.Get(body, "stream"u8), new("stream")) ?? false,
            IncludeUsage = DecodeIncludeUsage(JsonRead.Get(body, "stream_options"u8)),
            User = JsonRead.OptionalString(JsonRead.Get(body, "user"u8), new("user")),
        };
        DecodeMessages(JsonRead.Get(body, "messages"u8), request);
        request.ToolChoice = DecodeToolChoice(JsonRead.Get(body, "tool_choice"u8), request.Extensions);
        if (JsonRead.OptionalString(JsonRead.Get(body, "reasoning_effort"u8), new("reasoning_effort")) is { } effort)
            request.Reasoning = new ReasoningConfig { Effort = effort.Trim().ToLowerInvariant() };
        DecodeSampling(body, request);
        foreach (var property in body.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null && !IsKnownField(property))
                request.Extensions[ChatContent.Prefix + property.Name] = JsonText.ToNode(property.Value);
        }
        return request;
    }

    private static bool IsKnownField(JsonProperty property)
    {
        foreach (var name in KnownFields)
        {
            if (property.NameEquals(name)) return true;
        }
        return false;
    }

    private static bool DecodeIncludeUsage(JsonElement options) =>
        JsonRead.OptionalObject(options, new("stream_options"))
        && (JsonRead.OptionalBool(JsonRead.Get(options, "include_usage"u8), new("stream_options"), "include_usage") ?? false);

    private static void DecodeSampling(JsonElement body, ChatRequest request)
    {
        var sampling = request.Sampling;
        sampling.Temperature = JsonRead.OptionalNumber(JsonRead.Get(body, "temperature"u8), new("temperature"));
        sampling.TopP = JsonRead.OptionalNumber(JsonRead.Get(body, "top_p"u8), new("top_p"));
        sampling.TopK = JsonRead.OptionalInt32(JsonRead.Get(body, "top_k"u8), new("top_k"));
        sampling.Seed = JsonRead.OptionalInteger(JsonRead.Get(body, "seed"u8), new("seed"));
        sampling.PresencePenalty = JsonRead.OptionalNumber(JsonRead.Get(body, "presence_penalty"u8), new("presence_penalty"));
        sampling.FrequencyPenalty = JsonRead.OptionalNumber(JsonRead.Get(body, "frequency_penalty"u8), new("frequency_penalty"));
        sampling.CandidateCount = JsonRead.OptionalInt32(JsonRead.Get(body, "n"u8), new("n"));
        sampling.StopSequences = DecodeStop(JsonRead.Get(body, "stop"u8));
        var maxCompletion = JsonRead.OptionalInt32(JsonRead.Get(body, "max_completion_tokens"u8), new("max_completion_tokens"));
        // max_tokens is not read (nor checked) when max_completion_tokens is given.
        sampling.MaxOutputTokens = maxCompletion ?? JsonRead.OptionalInt32(JsonRead.Get(body, "max_tokens"u8), new("max_tokens"));
        if (maxCompletion is not null) request.Extensions[MaxCompletionTokensKey] = maxCompletion.Value;
    }

    /// <summary><c>stop</c> is a string or an array of strings.</summary>
    private static List<string> DecodeStop(JsonElement stop)
    {
        var at = new FieldPath("stop");
        if (stop.ValueKind == JsonValueKind.Array)
        {
            var list = new List<string>(stop.GetArrayLength());
            var i = 0;
            foreach (var item in stop.EnumerateArray()) list.Add(JsonRead.RequiredString(item, at[i++]));
            return list;
        }
        return JsonRead.OptionalString(stop, at) is { } single ? [single] : [];
    }

    /// <summary><c>stop</c> of a DOM body (the legacy completions adapter): a string or an array of strings.</summary>
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

    private static void DecodeMessages(JsonElement messages, ChatRequest request)
    {
        var root = new FieldPath("messages");
        if (!JsonRead.OptionalArray(messages, root)) throw new RequestFormatException("'messages' is required");
        // Tool results name their function so dialects that pair by name (Gemini) need no lookup of their own.
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var position = i++;
            var at = root[position];
            if (message.ValueKind != JsonValueKind.Object) throw JsonRead.Fail(at, null, "must be an object");
            var role = JsonRead.Get(message, "role"u8);
            JsonRead.RequireString(role, at, "role");
            var name = JsonRead.OptionalString(JsonRead.Get(message, "name"u8), at, "name");
            if (role.ValueEquals("system"u8) || role.ValueEquals("developer"u8))
            {
                request.System.AddRange(DecodeSystem(message, role.ValueEquals("developer"u8), name, position, at));
            }
            else if (role.ValueEquals("user"u8))
            {
                var user = new Message { Role = Role.User, Name = name };
                ChatContent.DecodeInto(JsonRead.Get(message, "content"u8), at, user.Parts);
                request.Messages.Add(user);
            }
            else if (role.ValueEquals("assistant"u8))
            {
                request.Messages.Add(DecodeAssistant(message, name, at, toolNames));
            }
            else if (role.ValueEquals("tool"u8))
            {
                var result = DecodeToolResult(message, at, toolNames);
                if (request.Messages.Count > 0 && request.Messages[^1].Role == Role.Tool) request.Messages[^1].Parts.Add(result);
                else request.Messages.Add(new Message(Role.Tool, result));
            }
            else if (role.ValueEquals("function"u8))
            {
                throw JsonRead.Fail(at, "role", "\"function\" is deprecated and not supported; use \"tool\" messages");
            }
            // A role this codec does not know is dropped, not refused (see the README).
        }
    }

    private static List<ContentPart> DecodeSystem(JsonElement message, bool developer, string? name, int position, in FieldPath at)
    {
        var parts = ChatContent.Decode(JsonRead.Get(message, "content"u8), at);
        foreach (var part in parts)
        {
            var extensions = part.Extensions ??= [];
            extensions[ChatContent.SystemMessageKey] = position;
            if (developer) extensions[ChatContent.RoleKey] = "developer";
            if (name is not null) extensions[ChatContent.NameKey] = name;
        }
        return parts;
    }

    private static Message DecodeAssistant(JsonElement message, string? name, in FieldPath at, Dictionary<string, string> toolNames)
    {
        var result = new Message { Role = Role.Assistant, Name = name };
        ChatReasoning.DecodeInto(message, at, result.Parts);
        ChatContent.DecodeInto(JsonRead.Get(message, "content"u8), at, result.Parts);
        var calls = JsonRead.Get(message, "tool_calls"u8);
        if (!JsonRead.OptionalArray(calls, at, "tool_calls")) return result;
        var j = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callAt = at.Member("tool_calls")[j++];
            if (call.ValueKind != JsonValueKind.Object) throw JsonRead.Fail(callAt, null, "must be an object");
            var type = JsonRead.Get(call, "type"u8);
            if (type.ValueKind == JsonValueKind.String ? !type.ValueEquals("function"u8) : !LenientJson.IsAbsent(type))
                throw JsonRead.Fail(callAt, "type", $"\"{JsonRead.OptionalString(type, callAt, "type")}\" is not supported");
            var function = JsonRead.Get(call, "function"u8);
            if (!JsonRead.OptionalObject(function, callAt, "function")) throw JsonRead.Fail(callAt, "function", "is required");
            var part = new ToolCallPart
            {
                Id = JsonRead.RequiredString(JsonRead.Get(call, "id"u8), callAt, "id"),
                Name = JsonRead.RequiredString(JsonRead.Get(function, "name"u8), callAt, "function.name"),
                Arguments = DecodeArguments(JsonRead.Get(function, "arguments"u8), callAt),
            };
            toolNames[part.Id] = part.Name;
            result.Parts.Add(part);
        }
        return result;
    }

    /// <summary>Arguments are JSON text; an object (sent by some clients) is serialised, absent means no arguments.</summary>
    private static string DecodeArguments(JsonElement arguments, in FieldPath call) => arguments.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => "{}",
        JsonValueKind.Object => JsonText.Serialize(arguments),
        _ => JsonRead.OptionalString(arguments, call, "function.arguments") is { Length: > 0 } text ? text : "{}",
    };

    private static ToolResultPart DecodeToolResult(JsonElement message, in FieldPath at, Dictionary<string, string> toolNames)
    {
        var id = JsonRead.RequiredString(JsonRead.Get(message, "tool_call_id"u8), at, "tool_call_id");
        return new ToolResultPart
        {
            ToolCallId = id,
            Name = toolNames.GetValueOrDefault(id),
            Content = ChatContent.Decode(JsonRead.Get(message, "content"u8), at),
        };
    }

    private static List<ToolDefinition> DecodeTools(JsonElement tools)
    {
        var root = new FieldPath("tools");
        if (!JsonRead.OptionalArray(tools, root)) return [];
        var list = new List<ToolDefinition>(tools.GetArrayLength());
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = root[i++];
            if (tool.ValueKind != JsonValueKind.Object) throw JsonRead.Fail(at, null, "must be an object");
            list.Add(DecodeTool(tool, at));
        }
        return list;
    }

    private static ToolDefinition DecodeTool(JsonElement tool, in FieldPath at)
    {
        var type = JsonRead.OptionalString(JsonRead.Get(tool, "type"u8), at, "type");
        // Gemini server tools: {"google_search":{}} (the CLIProxyAPI form, any "type") or {"type":"google_search"}.
        // The key counts when present even with a null value (the DOM's ContainsKey), whose config is then {}.
        foreach (var (key, kind) in ServerTools)
        {
            var present = tool.TryGetProperty(key, out var config);
            if (present || type == key)
                return new ToolDefinition { Kind = kind, Name = key, Config = (present ? JsonText.ToNode(config) : null) ?? new JsonObject() };
        }
        if (type is not (null or "function"))
            return new ToolDefinition { Kind = ToolKind.Native, Name = type, NativeDialect = Dialect.OpenAIChat, Config = JsonText.ToNode(tool) };
        var function = JsonRead.Get(tool, "function"u8);
        if (!JsonRead.OptionalObject(function, at, "function")) throw JsonRead.Fail(at, "function", "is required");
        var parameters = JsonRead.Get(function, "parameters"u8);
        return new ToolDefinition
        {
            Name = JsonRead.RequiredString(JsonRead.Get(function, "name"u8), at, "function.name"),
            Description = JsonRead.OptionalString(JsonRead.Get(function, "description"u8), at, "function.description"),
            Parameters = JsonRead.OptionalObject(parameters, at, "function.parameters") ? JsonText.ToNode(parameters) : null,
            Strict = JsonRead.OptionalBool(JsonRead.Get(function, "strict"u8), at, "function.strict"),
        };
    }

    /// <summary>Function-style choices are canonical; other object forms (allowed_tools, custom) pass through as Extensions.</summary>
    private static ToolChoice? DecodeToolChoice(JsonElement choice, JsonObject extensions)
    {
        var at = new FieldPath("tool_choice");
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                if (choice.ValueEquals("auto"u8)) return new ToolChoice { Mode = ToolChoiceMode.Auto };
                if (choice.ValueEquals("none"u8)) return new ToolChoice { Mode = ToolChoiceMode.None };
                if (choice.ValueEquals("required"u8)) return new ToolChoice { Mode = ToolChoiceMode.Required };
                // A mode this codec does not know leaves the upstream's default.
                return null;
            case JsonValueKind.Object:
                var type = JsonRead.Get(choice, "type"u8);
                JsonRead.RequireString(type, at, "type");
                if (!type.ValueEquals("function"u8))
                {
                    extensions[ChatContent.Prefix + "tool_choice"] = JsonText.ToNode(choice);
                    return null;
                }
                var function = JsonRead.Get(choice, "function"u8);
                // Both forms ({"function":{"name"}} and a flat "name") report a missing name as tool_choice.function.name.
                var name = JsonRead.OptionalObject(function, at, "function")
                    ? JsonRead.RequiredString(JsonRead.Get(function, "name"u8), at, "function.name")
                    : JsonRead.RequiredString(JsonRead.Get(choice, "name"u8), at, "function.name");
                return new ToolChoice { Mode = ToolChoiceMode.Function, Name = name };
            default:
                throw new RequestFormatException("'tool_choice' must be a string or an object");
        }
    }

    private static ResponseFormat? DecodeResponseFormat(JsonElement format)
    {
        var at = new FieldPath("response_format");
        if (!JsonRead.OptionalObject(format, at)) return null;
        var type = JsonRead.Get(format, "type"u8);
        JsonRead.RequireString(type, at, "type");
        if (type.ValueEquals("text"u8)) return new ResponseFormat { Kind = ResponseFormatKind.Text };
        if (type.ValueEquals("json_object"u8)) return new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
        // A format this codec does not know is not translated.
        if (!type.ValueEquals("json_schema"u8)) return null;
        var schema = JsonRead.Get(format, "json_schema"u8);
        if (!JsonRead.OptionalObject(schema, at, "json_schema")) throw JsonRead.Fail(at, "json_schema", "is required");
        var schemaBody = JsonRead.Get(schema, "schema"u8);
        return new ResponseFormat
        {
            Kind = ResponseFormatKind.JsonSchema,
            Name = JsonRead.OptionalString(JsonRead.Get(schema, "name"u8), at, "json_schema.name"),
            Schema = JsonRead.OptionalObject(schemaBody, at, "json_schema.schema") ? JsonText.ToNode(schemaBody) : null,
            Strict = JsonRead.OptionalBool(JsonRead.Get(schema, "strict"u8), at, "json_schema.strict"),
        };
    }
}
