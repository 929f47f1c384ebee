using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using static PluginProxy.Formats.Anthropic.AnthropicJson;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Canonical request to an Anthropic Messages body. Besides the field mapping it repairs what Anthropic would reject:
/// alternation of roles, tool results placed right after their calls, empty blocks, unsigned thinking, and thinking
/// combined with settings it cannot be combined with.
/// </summary>
internal static class AnthropicRequestEncoder
{
    /// <summary>max_tokens when the request has none (Anthropic requires it).</summary>
    public const int DefaultMaxTokens = 32000;

    /// <summary>Room for the answer above a thinking budget when max_tokens has to be derived from it.</summary>
    public const int AnswerMargin = 4096;

    /// <summary>Smallest thinking budget Anthropic accepts.</summary>
    public const int MinThinkingBudget = 1024;

    private static readonly string[] HandledExtensionKeys = ["thinking", "output_config", "metadata"];

    public static JsonObject Encode(ChatRequest request, string upstreamModel)
    {
        var messages = EncodeMessages(request.Messages, out var leadingSystem);
        var tools = EncodeTools(request.Tools);
        var body = new JsonObject { ["model"] = upstreamModel };

        var maxTokens = request.Sampling.MaxOutputTokens;
        var thinking = EncodeThinking(request, maxTokens, out var effort, out var budget);
        var thinkingOn = thinking is not null && Text(thinking, "type") != "disabled";
        if (thinkingOn && (ForcesToolUse(request.ToolChoice, tools) || ConflictsWithThinking(messages)))
        {
            thinking = null;
            thinkingOn = false;
        }
        CompactTurns(messages);
        body["max_tokens"] = maxTokens ?? (thinking is not null && budget >= DefaultMaxTokens ? budget + AnswerMargin : DefaultMaxTokens);

        if (AnthropicBlocks.EncodeContent(request.System.Concat(leadingSystem).Where(p => p is TextPart), BlockTarget.Request) is { } system)
            body["system"] = system;
        body["messages"] = messages;
        if (tools.Count > 0)
        {
            body["tools"] = tools;
            if (EncodeToolChoice(request) is { } choice) body["tool_choice"] = choice;
        }
        if (thinking is not null) body["thinking"] = thinking;
        if (EncodeOutputConfig(request, thinking is not null ? effort : null) is { } outputConfig) body["output_config"] = outputConfig;

        EncodeSampling(request.Sampling, body, thinkingOn);
        if (EncodeMetadata(request) is { } metadata) body["metadata"] = metadata;
        if (request.Stream) body["stream"] = true;

        EmitExtras(request.Extensions, body, HandledExtensionKeys);
        return body;
    }

    // ---- messages ----

    /// <summary>
    /// Tool and user messages both become user turns. Each tool result whose call is known is moved into the user turn
    /// right after the assistant turn holding the call (in the order the results were given); consecutive turns of
    /// one role are merged, and turns left empty are dropped.
    /// </summary>
    /// <remarks>
    /// System messages stay in place as <c>role:"system"</c> turns (consecutive ones merged, as Anthropic allows no two in
    /// a row), with their extensions (<c>output_config</c>) as keys of the turn. Those before any other turn cannot be
    /// <c>messages[0]</c>: their text goes to <paramref name="leadingSystem"/> (appended to the top-level system) and only a
    /// directive (content <c>[]</c> with <c>output_config</c>, valid anywhere) stays.
    /// </remarks>
    private static JsonArray EncodeMessages(List<Message> messages, out List<ContentPart> leadingSystem)
    {
        leadingSystem = [];
        var callOwner = new Dictionary<string, int>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != Role.Assistant) continue;
            foreach (var call in messages[i].Parts.OfType<ToolCallPart>())
                callOwner.TryAdd(call.Id, i);
        }
        var resultsByOwner = new Dictionary<int, List<ToolResultPart>>();
        foreach (var result in messages.SelectMany(m => m.Parts).OfType<ToolResultPart>())
        {
            if (!callOwner.TryGetValue(result.ToolCallId, out var owner)) continue;
            if (!resultsByOwner.TryGetValue(owner, out var list)) resultsByOwner[owner] = list = [];
            list.Add(result);
        }

        var turns = new JsonArray();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == Role.System)
            {
                if (!turns.OfType<JsonObject>().Any(t => Text(t, "role") != "system"))
                {
                    leadingSystem.AddRange(message.Parts.Where(p => p is TextPart));
                    AppendSystemTurn(turns, message.Parts.Where(p => p is not TextPart), message.Extensions);
                }
                else
                {
                    AppendSystemTurn(turns, message.Parts, message.Extensions);
                }
                continue;
            }
            var role = message.Role == Role.Assistant ? "assistant" : "user";
            var parts = message.Parts.Where(p => p is not ToolResultPart r || !callOwner.ContainsKey(r.ToolCallId));
            AppendTurn(turns, role, parts);
            if (resultsByOwner.TryGetValue(i, out var results)) AppendTurn(turns, "user", results);
        }
        return turns;
    }

    private static void AppendTurn(JsonArray turns, string role, IEnumerable<ContentPart> parts)
    {
        var blocks = new List<JsonObject>();
        foreach (var part in parts)
        {
            if (AnthropicBlocks.Encode(part, BlockTarget.Request) is { } block) blocks.Add(block);
        }
        if (blocks.Count == 0) return;
        if (turns.Count > 0 && turns[^1] is JsonObject last && Text(last, "role") == role)
        {
            var content = last["content"]!.AsArray();
            foreach (var block in blocks) content.Add(block);
            return;
        }
        turns.Add(new JsonObject { ["role"] = role, ["content"] = new JsonArray([.. blocks]) });
    }

    /// <summary>
    /// A system turn; kept even without blocks when it carries extensions (the directive-only form), merged into a
    /// system turn right before it (later extension values win).
    /// </summary>
    private static void AppendSystemTurn(JsonArray turns, IEnumerable<ContentPart> parts, JsonObject? extensions)
    {
        var blocks = new List<JsonObject>();
        foreach (var part in parts)
        {
            if (AnthropicBlocks.Encode(part, BlockTarget.Request) is { } block) blocks.Add(block);
        }
        var hasExtras = extensions?.Any(e => e.Key.StartsWith(ExtensionPrefix, StringComparison.Ordinal)) == true;
        if (blocks.Count == 0 && !hasExtras) return;
        if (turns.Count > 0 && turns[^1] is JsonObject last && Text(last, "role") == "system")
        {
            var content = last["content"]!.AsArray();
            foreach (var block in blocks) content.Add(block);
            foreach (var (key, value) in extensions ?? [])
            {
                if (key.StartsWith(ExtensionPrefix, StringComparison.Ordinal) && key.Length > ExtensionPrefix.Length)
                    last[key[ExtensionPrefix.Length..]] = value?.DeepClone();
            }
            return;
        }
        var turn = new JsonObject { ["role"] = "system", ["content"] = new JsonArray([.. blocks]) };
        EmitExtras(extensions, turn);
        turns.Add(turn);
    }

    /// <summary>A lone plain text block is sent as a string, the shortest form (applied after merging).</summary>
    private static void CompactTurns(JsonArray turns)
    {
        foreach (var turn in turns.OfType<JsonObject>())
        {
            if (turn["content"] is JsonArray { Count: 1 } content && AnthropicBlocks.PlainText(content[0]) is { } text)
                turn["content"] = text;
        }
    }

    /// <summary>
    /// Conversations Anthropic rejects when thinking is on: a prefilled (final) assistant turn, or an open tool loop whose
    /// assistant turn does not start with signed thinking (typical for history produced by another dialect's model).
    /// </summary>
    private static bool ConflictsWithThinking(JsonArray allTurns)
    {
        // System turns are instructions, not conversation: the checks look at the user/assistant turns only.
        var turns = allTurns.OfType<JsonObject>().Where(t => Text(t, "role") != "system").ToList();
        if (turns.Count == 0) return false;
        var last = turns[^1];
        if (Text(last, "role") == "assistant") return true;
        if (turns.Count < 2) return false;
        if (last["content"] is not JsonArray userBlocks || !userBlocks.OfType<JsonObject>().Any(b => Text(b, "type") == "tool_result")) return false;
        if (turns[^2] is not { } assistant || assistant["content"] is not JsonArray blocks || blocks.Count == 0) return false;
        var first = Text(blocks[0] as JsonObject, "type");
        return first is not ("thinking" or "redacted_thinking") && blocks.OfType<JsonObject>().Any(b => Text(b, "type") == "tool_use");
    }

    // ---- tools ----

    /// <summary>
    /// Functions become client tools (a schema without <c>type</c> gets <c>"object"</c>, which Anthropic requires);
    /// Anthropic native tools are sent verbatim. Google Search and OpenAI <c>web_search</c> tools become Anthropic's
    /// <c>web_search_20250305</c>; code execution, URL context and other dialects' native tools are dropped.
    /// </summary>
    private static JsonArray EncodeTools(List<ToolDefinition> tools)
    {
        var array = new JsonArray();
        var webSearchAdded = tools.Any(t => t.Kind == ToolKind.Native && t.NativeDialect == Dialect.Anthropic
            && Text(t.Config as JsonObject, "type")?.StartsWith("web_search", StringComparison.Ordinal) == true);
        foreach (var tool in tools)
        {
            switch (tool.Kind)
            {
                case ToolKind.Function:
                    var function = new JsonObject { ["name"] = tool.Name };
                    if (tool.Description is not null) function["description"] = tool.Description;
                    function["input_schema"] = InputSchema(tool.Parameters);
                    if (tool.Strict is { } strict) function["strict"] = strict;
                    EmitExtras(tool.Extensions, function);
                    array.Add(function);
                    break;
                case ToolKind.Native when tool.NativeDialect == Dialect.Anthropic && tool.Config is JsonObject native:
                    array.Add(native.DeepClone());
                    break;
                case ToolKind.GoogleSearch:
                case ToolKind.Native when tool.Config is JsonObject other && Text(other, "type") is "web_search" or "web_search_preview":
                    if (!webSearchAdded) array.Add(new JsonObject { ["type"] = "web_search_20250305", ["name"] = "web_search" });
                    webSearchAdded = true;
                    break;
            }
        }
        return array;
    }

    /// <summary>One tool as Anthropic declares it (the by-value definition of a <c>tool_addition</c>); null when it has no Anthropic form.</summary>
    public static JsonObject? EncodeTool(ToolDefinition tool)
    {
        var array = EncodeTools([tool]);
        if (array.Count != 1) return null;
        var only = array[0] as JsonObject;
        array.Clear();
        return only;
    }

    private static JsonObject InputSchema(JsonNode? parameters)
    {
        if (parameters is not JsonObject schema) return new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
        var copy = schema.DeepClone().AsObject();
        if (!copy.ContainsKey("type")) copy["type"] = "object";
        return copy;
    }

    private static JsonObject? EncodeToolChoice(ChatRequest request)
    {
        JsonObject? choice = request.ToolChoice switch
        {
            null => null,
            { Mode: ToolChoiceMode.None } => new JsonObject { ["type"] = "none" },
            { Mode: ToolChoiceMode.Required } => new JsonObject { ["type"] = "any" },
            { Mode: ToolChoiceMode.Function, Name: { } name } => new JsonObject { ["type"] = "tool", ["name"] = name },
            _ => new JsonObject { ["type"] = "auto" },
        };
        if (choice is not null && Text(choice, "type") == "none") return choice;
        if (request.ParallelToolCalls == false)
        {
            choice ??= new JsonObject { ["type"] = "auto" };
            choice["disable_parallel_tool_use"] = true;
        }
        else if (request.ParallelToolCalls == true && choice is not null)
        {
            choice["disable_parallel_tool_use"] = false;
        }
        return choice;
    }

    private static bool ForcesToolUse(ToolChoice? choice, JsonArray tools) =>
        tools.Count > 0 && choice?.Mode is ToolChoiceMode.Required or ToolChoiceMode.Function;

    // ---- reasoning, output, sampling ----

    /// <summary>
    /// Budget 0 / effort none → disabled; budget -1 or effort auto → adaptive (Anthropic's "model decides"), with a level
    /// effort carried in <c>output_config.effort</c>; a positive budget, or a level turned into one through
    /// <see cref="ThinkingLevels"/>, → enabled (at least 1024 and below max_tokens: an explicit max_tokens lowers
    /// the budget and disables thinking when under 1024 remains, a missing one is raised above the budget).
    /// </summary>
    private static JsonObject? EncodeThinking(ChatRequest request, int? maxTokens, out string? effort, out int budget)
    {
        effort = null;
        budget = 0;
        if (request.Reasoning is not { } reasoning) return null;
        var level = reasoning.Effort?.Trim().ToLowerInvariant();
        JsonObject thinking;
        if (reasoning.BudgetTokens == 0 || (reasoning.BudgetTokens is null && level == "none"))
        {
            thinking = new JsonObject { ["type"] = "disabled" };
        }
        else if (reasoning.BudgetTokens == -1 || (reasoning.BudgetTokens is null && level == "auto"))
        {
            thinking = new JsonObject { ["type"] = "adaptive" };
            effort = AnthropicEffort(level);
        }
        else if ((reasoning.BudgetTokens ?? ThinkingLevels.BudgetFor(level)) is { } requested and > 0)
        {
            budget = Math.Max(MinThinkingBudget, requested);
            if (maxTokens is { } max && budget >= max)
            {
                budget = max - 1;
                if (budget < MinThinkingBudget) return null;
            }
            thinking = new JsonObject { ["type"] = "enabled", ["budget_tokens"] = budget };
        }
        else
        {
            return null;
        }
        if (Text(thinking, "type") != "disabled" && request.Extensions[ExtensionPrefix + "thinking"] is JsonObject extras)
        {
            foreach (var (key, value) in extras)
            {
                if (!thinking.ContainsKey(key)) thinking[key] = value?.DeepClone();
            }
        }
        return thinking;
    }

    /// <summary>Canonical level to Anthropic's effort scale (low, medium, high, xhigh, max).</summary>
    private static string? AnthropicEffort(string? level) => level switch
    {
        "minimal" or "low" => "low",
        "medium" => "medium",
        "high" => "high",
        "xhigh" => "xhigh",
        _ => null,
    };

    /// <summary>
    /// <c>output_config</c>: the kept extension, plus the adaptive-thinking effort and a JSON schema response format
    /// (<c>format:{type:"json_schema",schema}</c>). JSON-object mode without a schema has no Anthropic form and is dropped.
    /// </summary>
    private static JsonObject? EncodeOutputConfig(ChatRequest request, string? effort)
    {
        var config = request.Extensions[ExtensionPrefix + "output_config"] is JsonObject kept ? kept.DeepClone().AsObject() : [];
        if (effort is not null && !config.ContainsKey("effort")) config["effort"] = effort;
        if (request.ResponseFormat is { Kind: ResponseFormatKind.JsonSchema, Schema: { } schema })
            config["format"] = new JsonObject { ["type"] = "json_schema", ["schema"] = schema.DeepClone() };
        return config.Count > 0 ? config : null;
    }

    /// <summary>
    /// Sampling fields. With thinking on, Anthropic only accepts temperature 1, no top_k and top_p in [0.95, 1], so other
    /// values are left out. Seed, penalties and candidate count have no Anthropic field.
    /// </summary>
    private static void EncodeSampling(SamplingOptions sampling, JsonObject body, bool thinkingOn)
    {
        if (sampling.Temperature is { } temperature && (!thinkingOn || temperature == 1)) body["temperature"] = temperature;
        if (sampling.TopP is { } topP && (!thinkingOn || topP is >= 0.95 and <= 1)) body["top_p"] = topP;
        if (sampling.TopK is { } topK && !thinkingOn) body["top_k"] = topK;
        if (sampling.StopSequences.Count > 0) body["stop_sequences"] = new JsonArray([.. sampling.StopSequences.Select(s => (JsonNode?)s)]);
    }

    private static JsonObject? EncodeMetadata(ChatRequest request)
    {
        var metadata = request.Extensions[ExtensionPrefix + "metadata"] is JsonObject kept ? kept.DeepClone().AsObject() : [];
        if (request.User is not null) metadata["user_id"] = request.User;
        return metadata.Count > 0 ? metadata : null;
    }
}
