using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Canonical request to an upstream Chat Completions body; the inverse of <see cref="ChatRequestDecoder"/> up to
/// these normalisations: system messages come first (mid-conversation ones, <see cref="Role.System"/>, stay in place); a one-text-part content array becomes a string; assistant
/// <c>content:""</c> next to tool calls becomes null and empty tool arguments <c>{}</c>; <c>stop</c> is always an
/// array; server tools use the <c>{"google_search":{}}</c> form; <c>stream:false</c> and empty <c>tools</c> are
/// omitted; a streaming request always asks for usage (<c>stream_options.include_usage</c>) because the proxy
/// accounts tokens.
/// </summary>
internal static class ChatRequestEncoder
{
    public static JsonObject Encode(ChatRequest request, string upstreamModel)
    {
        var body = new JsonObject { ["model"] = upstreamModel };
        var messages = new JsonArray();
        EncodeSystem(request.System, messages);
        foreach (var message in request.Messages)
        {
            if (message.Role == Role.Assistant) messages.Add(EncodeAssistant(message));
            else if (message.Role == Role.System) EncodeSystemNote(message, messages);
            else EncodeUserOrTool(message, messages);
        }
        body["messages"] = messages;

        var tools = new JsonArray();
        foreach (var tool in SystemNotes.DeclaredTools(request))
        {
            if (EncodeTool(tool) is { } json) tools.Add(json);
        }
        if (tools.Count > 0) body["tools"] = tools;
        if (request.ToolChoice is { } choice) body["tool_choice"] = EncodeToolChoice(choice);
        if (request.ParallelToolCalls is { } parallel) body["parallel_tool_calls"] = parallel;
        if (ReasoningEffort(request.Reasoning) is { } effort) body["reasoning_effort"] = effort;
        EncodeSampling(request, body);
        if (request.ResponseFormat is { } format) body["response_format"] = EncodeResponseFormat(format);
        if (request.Stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        if (request.User is not null) body["user"] = request.User;

        foreach (var (key, value) in request.Extensions)
        {
            if (!key.StartsWith(ChatContent.Prefix, StringComparison.Ordinal) || key == ChatRequestDecoder.MaxCompletionTokensKey) continue;
            var name = key[ChatContent.Prefix.Length..];
            if (!body.ContainsKey(name)) body[name] = value?.DeepClone();
        }
        return body;
    }

    /// <summary>
    /// Parts decoded from one chat system message share an <c>openai.system_message</c> number and regroup into it.
    /// Parts from other dialects become one system message, a string when they are all text, because several
    /// OpenAI-compatible servers accept only string content (and a single system message) there.
    /// </summary>
    private static void EncodeSystem(List<ContentPart> system, JsonArray messages)
    {
        var group = new List<ContentPart>();
        long? groupId = null;
        foreach (var part in system)
        {
            var id = JsonRead.AsLong(part.Extensions?[ChatContent.SystemMessageKey]);
            if (group.Count > 0 && (id != groupId || SystemRole(part) != SystemRole(group[0])))
            {
                messages.Add(SystemMessage(group, fromChat: groupId is not null));
                group.Clear();
            }
            group.Add(part);
            groupId = id;
        }
        if (group.Count > 0) messages.Add(SystemMessage(group, fromChat: groupId is not null));
    }

    private static JsonObject SystemMessage(List<ContentPart> parts, bool fromChat)
    {
        var content = !fromChat && parts.All(p => p is TextPart)
            ? string.Join("\n\n", parts.Cast<TextPart>().Select(t => t.Text))
            : ChatContent.Encode(parts) ?? "";
        var message = new JsonObject { ["role"] = SystemRole(parts[0]), ["content"] = content };
        if (JsonRead.AsString(parts[0].Extensions?[ChatContent.NameKey]) is { } name) message["name"] = name;
        return message;
    }

    private static string SystemRole(ContentPart part) => JsonRead.AsString(part.Extensions?[ChatContent.RoleKey]) ?? "system";

    /// <summary>
    /// A mid-conversation system message stays where it is, as a system message with string content (tool changes as
    /// sentences). A message with nothing to say (a bare per-turn directive) is left out.
    /// </summary>
    private static void EncodeSystemNote(Message message, JsonArray messages)
    {
        if (SystemNotes.Text(message) is { } text) messages.Add(new JsonObject { ["role"] = "system", ["content"] = text });
    }

    private static JsonObject EncodeAssistant(Message message)
    {
        var calls = new JsonArray();
        foreach (var call in message.Parts.OfType<ToolCallPart>())
        {
            calls.Add(new JsonObject
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
            });
        }
        var json = new JsonObject
        {
            ["role"] = "assistant",
            // OpenAI sends null content next to tool calls; an otherwise empty turn keeps "" for strict servers.
            ["content"] = ChatContent.Encode(message.Parts) ?? (calls.Count > 0 ? null : ""),
        };
        ChatReasoning.Encode([.. message.Parts.OfType<ReasoningPart>()], json);
        if (calls.Count > 0) json["tool_calls"] = calls;
        if (message.Name is not null) json["name"] = message.Name;
        return json;
    }

    /// <summary>Tool results become <c>tool</c> messages (first, as OpenAI wants them right after the call); other parts a user message.</summary>
    private static void EncodeUserOrTool(Message message, JsonArray messages)
    {
        var rest = new List<ContentPart>();
        foreach (var part in message.Parts)
        {
            if (part is ToolResultPart result)
            {
                messages.Add(new JsonObject
                {
                    ["role"] = "tool",
                    ["tool_call_id"] = result.ToolCallId,
                    ["content"] = ChatContent.Encode(result.Content) ?? "",
                });
            }
            else
            {
                rest.Add(part);
            }
        }
        // An empty user turn is kept; a turn that held only tool results is fully expressed by the tool messages.
        if (rest.Count == 0 && (message.Role == Role.Tool || message.Parts.Count > 0)) return;
        var user = new JsonObject { ["role"] = "user", ["content"] = ChatContent.Encode(rest) ?? "" };
        if (message.Name is not null) user["name"] = message.Name;
        messages.Add(user);
    }

    private static JsonObject? EncodeTool(ToolDefinition tool)
    {
        switch (tool.Kind)
        {
            case ToolKind.Function:
                var function = new JsonObject { ["name"] = tool.Name };
                if (tool.Description is not null) function["description"] = tool.Description;
                if (tool.Parameters is not null) function["parameters"] = tool.Parameters.DeepClone();
                if (tool.Strict is not null) function["strict"] = tool.Strict;
                return new JsonObject { ["type"] = "function", ["function"] = function };
            case ToolKind.Native:
                return tool.NativeDialect == Dialect.OpenAIChat && tool.Config is JsonObject native ? (JsonObject)native.DeepClone() : null;
            default:
                var key = ChatRequestDecoder.ServerTools.First(t => t.Kind == tool.Kind).Key;
                return new JsonObject { [key] = tool.Config?.DeepClone() ?? new JsonObject() };
        }
    }

    private static JsonNode EncodeToolChoice(ToolChoice choice) => choice.Mode switch
    {
        ToolChoiceMode.None => "none",
        ToolChoiceMode.Required => "required",
        ToolChoiceMode.Function => new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = choice.Name ?? "" },
        },
        _ => "auto",
    };

    private static string? ReasoningEffort(ReasoningConfig? reasoning) =>
        reasoning?.Effort ?? (reasoning?.BudgetTokens is { } budget ? ThinkingLevels.LevelFor(budget) : null);

    private static void EncodeSampling(ChatRequest request, JsonObject body)
    {
        var sampling = request.Sampling;
        if (sampling.Temperature is { } temperature) body["temperature"] = temperature;
        if (sampling.TopP is { } topP) body["top_p"] = topP;
        if (sampling.TopK is { } topK) body["top_k"] = topK;
        if (sampling.MaxOutputTokens is { } max)
        {
            var field = request.Extensions.ContainsKey(ChatRequestDecoder.MaxCompletionTokensKey) ? "max_completion_tokens" : "max_tokens";
            body[field] = max;
        }
        if (sampling.StopSequences.Count > 0) body["stop"] = new JsonArray([.. sampling.StopSequences.Select(s => (JsonNode)s)]);
        if (sampling.Seed is { } seed) body["seed"] = seed;
        if (sampling.PresencePenalty is { } presence) body["presence_penalty"] = presence;
        if (sampling.FrequencyPenalty is { } frequency) body["frequency_penalty"] = frequency;
        if (sampling.CandidateCount is { } n) body["n"] = n;
    }

    private static JsonObject EncodeResponseFormat(ResponseFormat format)
    {
        switch (format.Kind)
        {
            case ResponseFormatKind.JsonObject:
                return new JsonObject { ["type"] = "json_object" };
            case ResponseFormatKind.JsonSchema:
                // OpenAI requires a schema name; other dialects do not carry one.
                var schema = new JsonObject { ["name"] = format.Name ?? "response" };
                if (format.Schema is not null) schema["schema"] = format.Schema.DeepClone();
                if (format.Strict is not null) schema["strict"] = format.Strict;
                return new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
            default:
                return new JsonObject { ["type"] = "text" };
        }
    }
}
