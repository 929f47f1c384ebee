using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using static PluginProxy.Formats.Anthropic.AnthropicJson;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Messages request body (also the <c>count_tokens</c> body, which has no <c>max_tokens</c>) to canonical.
/// Top-level keys without a canonical field are kept as <c>anthropic.&lt;key&gt;</c> extensions; three are kept partially:
/// <c>anthropic.metadata</c> (metadata without <c>user_id</c>), <c>anthropic.output_config</c> (without the parts mapped to
/// Reasoning/ResponseFormat) and <c>anthropic.thinking</c> (keys of <c>thinking</c> besides <c>type</c>/<c>budget_tokens</c>).
/// </summary>
internal static class AnthropicRequestDecoder
{
    private static readonly string[] CoreKeys =
    [
        "model", "max_tokens", "system", "messages", "tools", "tool_choice", "thinking", "output_config",
        "temperature", "top_p", "top_k", "stop_sequences", "stream", "metadata",
    ];

    public static ChatRequest Decode(JsonObject body)
    {
        var request = new ChatRequest
        {
            Model = RequiredString(body, "model", ""),
            Stream = OptionalBool(body, "stream", "") ?? false,
        };
        request.Sampling.MaxOutputTokens = OptionalInt(body, "max_tokens", "");
        request.Sampling.Temperature = OptionalNumber(body, "temperature", "");
        request.Sampling.TopP = OptionalNumber(body, "top_p", "");
        request.Sampling.TopK = OptionalInt(body, "top_k", "");
        request.Sampling.StopSequences = DecodeStopSequences(body);

        request.System = DecodeSystem(body["system"]);
        request.Messages = DecodeMessages(body);
        request.Tools = DecodeTools(body);
        DecodeToolChoice(body, request);
        DecodeThinking(body, request);
        DecodeMetadata(body, request);

        CollectExtras(body, request.Extensions, CoreKeys);
        return request;
    }

    private static List<string> DecodeStopSequences(JsonObject body)
    {
        var list = new List<string>();
        if (OptionalArray(body, "stop_sequences", "") is not { } array) return list;
        for (var i = 0; i < array.Count; i++)
        {
            list.Add(array[i] is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String
                ? value.GetValue<string>()
                : throw new RequestFormatException($"stop_sequences[{i}] must be a string"));
        }
        return list;
    }

    private static List<ContentPart> DecodeSystem(JsonNode? system)
    {
        switch (system)
        {
            case null:
                return [];
            case JsonArray blocks:
                var parts = new List<ContentPart>(blocks.Count);
                var noTools = new Dictionary<string, string>();
                for (var i = 0; i < blocks.Count; i++)
                {
                    var path = Path("system", i);
                    var block = Object(blocks[i], path);
                    // Only text is valid here; a block type this codec does not know is dropped rather than refused.
                    if (OptionalString(block, "type", path) != "text") continue;
                    parts.Add(AnthropicBlocks.Decode(block, path, noTools));
                }
                return parts;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String:
                var text = value.GetValue<string>();
                return text.Length == 0 ? [] : [new TextPart(text)];
            default:
                throw new RequestFormatException("system must be a string or an array of text blocks");
        }
    }

    /// <summary>
    /// Assistant turns map one to one. A user turn is split into runs: tool_result blocks become Role.Tool messages and
    /// everything else Role.User messages, in their original order (the encoder merges them back into one user turn).
    /// A mid-conversation <c>system</c> message becomes a Role.System message in place, wherever it stands (placement
    /// is the upstream's to judge), with its other keys (<c>output_config</c>) as message extensions. Messages of a role
    /// this codec does not know are dropped.
    /// </summary>
    private static List<Message> DecodeMessages(JsonObject body)
    {
        var array = OptionalArray(body, "messages", "") ?? throw new RequestFormatException("messages is required");
        var messages = new List<Message>(array.Count);
        var toolNames = new Dictionary<string, string>();
        for (var i = 0; i < array.Count; i++)
        {
            var path = Path("messages", i);
            var message = Object(array[i], path);
            Role role;
            switch (RequiredString(message, "role", path))
            {
                case "user":
                    role = Role.User;
                    break;
                case "assistant":
                    role = Role.Assistant;
                    break;
                case "system":
                    // The directive-only form (content [] with output_config) is valid, so content may be empty or absent.
                    messages.Add(new Message
                    {
                        Role = Role.System,
                        Parts = message["content"] is null ? [] : DecodeContent(message, Path(path, "content"), toolNames),
                        Extensions = CollectExtras(message, null, "role", "content"),
                    });
                    continue;
                default:
                    continue;
            }
            var parts = DecodeContent(message, Path(path, "content"), toolNames);
            if (role == Role.Assistant)
            {
                messages.Add(new Message { Role = Role.Assistant, Parts = parts });
                continue;
            }
            if (parts.Count == 0)
            {
                messages.Add(new Message { Role = Role.User });
                continue;
            }
            foreach (var run in SplitToolResults(parts)) messages.Add(run);
        }
        return messages;
    }

    private static IEnumerable<Message> SplitToolResults(List<ContentPart> parts)
    {
        Message? current = null;
        foreach (var part in parts)
        {
            var role = part is ToolResultPart ? Role.Tool : Role.User;
            if (current is null || current.Role != role)
            {
                if (current is not null) yield return current;
                current = new Message { Role = role };
            }
            current.Parts.Add(part);
        }
        if (current is not null) yield return current;
    }

    private static List<ContentPart> DecodeContent(JsonObject message, string path, Dictionary<string, string> toolNames)
    {
        switch (message["content"])
        {
            case null:
                throw new RequestFormatException($"{path} is required");
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String:
                var text = value.GetValue<string>();
                return text.Length == 0 ? [] : [new TextPart(text)];
            case JsonArray blocks:
                var parts = new List<ContentPart>(blocks.Count);
                for (var i = 0; i < blocks.Count; i++)
                    parts.Add(AnthropicBlocks.Decode(Object(blocks[i], Path(path, i)), Path(path, i), toolNames));
                return parts;
            default:
                throw new RequestFormatException($"{path} must be a string or an array of content blocks");
        }
    }

    /// <summary>
    /// Client tools become functions; typed Anthropic server tools (<c>web_search_20250305</c>, <c>bash_20250124</c>,
    /// <c>text_editor_*</c>, ...) stay native. The Gemini server tools are accepted as <c>{"type":"google_search"}</c>
    /// (likewise <c>code_execution</c>, <c>url_context</c>) or, without <c>type</c> and <c>input_schema</c>, as <c>{"name":"google_search"}</c>
    /// (so Anthropic's own <c>{"type":"code_execution_20250825","name":"code_execution"}</c> stays native);
    /// their config is the object under the tool's own name when present, else the remaining keys.
    /// </summary>
    private static List<ToolDefinition> DecodeTools(JsonObject body)
    {
        var tools = new List<ToolDefinition>();
        if (OptionalArray(body, "tools", "") is not { } array) return tools;
        for (var i = 0; i < array.Count; i++)
        {
            var path = Path("tools", i);
            tools.Add(DecodeTool(Object(array[i], path), path));
        }
        return tools;
    }

    /// <summary>One tool definition (also the by-value definition of a <c>tool_addition</c> block).</summary>
    public static ToolDefinition DecodeTool(JsonObject tool, string path)
    {
        var type = OptionalString(tool, "type", path);
        var name = OptionalString(tool, "name", path);
        var serverKind = ServerToolKind(type) ?? (type is null && !tool.ContainsKey("input_schema") ? ServerToolKind(name) : null);
        if (serverKind is { } kind)
        {
            var kindName = ServerToolKind(type) is not null ? type! : name!;
            return new ToolDefinition { Kind = kind, Name = kindName, Config = ServerToolConfig(tool, kindName) };
        }
        if (type is not null && type != "custom")
        {
            return new ToolDefinition
            {
                Kind = ToolKind.Native,
                NativeDialect = Dialect.Anthropic,
                Name = name ?? type,
                Config = tool.DeepClone(),
            };
        }
        var schema = tool["input_schema"];
        if (schema is not null and not JsonObject) throw new RequestFormatException($"{Path(path, "input_schema")} must be an object");
        return new ToolDefinition
        {
            Name = name ?? throw new RequestFormatException($"{Path(path, "name")} is required"),
            Description = OptionalString(tool, "description", path),
            Parameters = schema?.DeepClone(),
            Strict = OptionalBool(tool, "strict", path),
            Extensions = CollectExtras(tool, null, "name", "description", "input_schema", "strict"),
        };
    }

    private static ToolKind? ServerToolKind(string? name) => name switch
    {
        "google_search" => ToolKind.GoogleSearch,
        "code_execution" => ToolKind.CodeExecution,
        "url_context" => ToolKind.UrlContext,
        _ => null,
    };

    private static JsonNode ServerToolConfig(JsonObject tool, string kindName)
    {
        if (tool[kindName] is JsonObject nested) return nested.DeepClone();
        var config = new JsonObject();
        foreach (var (key, value) in tool)
        {
            if (key is not ("type" or "name")) config[key] = value?.DeepClone();
        }
        return config;
    }

    private static void DecodeToolChoice(JsonObject body, ChatRequest request)
    {
        if (OptionalObject(body, "tool_choice", "") is not { } choice) return;
        const string path = "tool_choice";
        request.ToolChoice = OptionalString(choice, "type", path) switch
        {
            "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
            "any" => new ToolChoice { Mode = ToolChoiceMode.Required },
            "none" => new ToolChoice { Mode = ToolChoiceMode.None },
            "tool" => new ToolChoice { Mode = ToolChoiceMode.Function, Name = RequiredString(choice, "name", path) },
            // A choice this codec does not know leaves the upstream's default.
            _ => null,
        };
        if (OptionalBool(choice, "disable_parallel_tool_use", path) is { } disable) request.ParallelToolCalls = !disable;
    }

    /// <summary>
    /// <c>enabled</c> → budget; <c>disabled</c> → effort none / budget 0; <c>adaptive</c> → budget -1 with the effort taken
    /// from <c>output_config.effort</c> (else "auto"). Effort without adaptive thinking is an output setting, not
    /// reasoning, and stays in <c>output_config</c>. <c>output_config.format</c> (json_schema) is the response format.
    /// </summary>
    private static void DecodeThinking(JsonObject body, ChatRequest request)
    {
        var outputConfig = OptionalObject(body, "output_config", "")?.DeepClone().AsObject();
        if (outputConfig?["format"] is JsonObject format && Text(format, "type") == "json_schema")
        {
            request.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = format["schema"]?.DeepClone() };
            outputConfig.Remove("format");
        }

        if (OptionalObject(body, "thinking", "") is { } thinking)
        {
            const string path = "thinking";
            switch (OptionalString(thinking, "type", path))
            {
                case "enabled":
                    request.Reasoning = new ReasoningConfig { BudgetTokens = OptionalInt(thinking, "budget_tokens", path), IncludeThoughts = true };
                    break;
                case "disabled":
                    request.Reasoning = new ReasoningConfig { Effort = "none", BudgetTokens = 0 };
                    break;
                case "adaptive":
                    request.Reasoning = new ReasoningConfig { Effort = TakeEffort(outputConfig) ?? "auto", BudgetTokens = -1, IncludeThoughts = true };
                    break;
                default:
                    // A thinking type this codec does not know: no reasoning setting is translated.
                    break;
            }
            var extras = new JsonObject();
            foreach (var (key, value) in thinking)
            {
                if (key is not ("type" or "budget_tokens")) extras[key] = value?.DeepClone();
            }
            if (extras.Count > 0 && request.Reasoning is not null) request.Extensions[ExtensionPrefix + "thinking"] = extras;
        }

        if (outputConfig is { Count: > 0 }) request.Extensions[ExtensionPrefix + "output_config"] = outputConfig;
    }

    /// <summary>Moves <c>effort</c> out of output_config when it is a canonical level (<c>max</c> stays, read as xhigh).</summary>
    private static string? TakeEffort(JsonObject? outputConfig)
    {
        var effort = Text(outputConfig, "effort");
        if (effort is null) return null;
        if (effort == "max") return "xhigh";
        if (ThinkingLevels.BudgetFor(effort) is null) return null;
        outputConfig!.Remove("effort");
        return effort;
    }

    private static void DecodeMetadata(JsonObject body, ChatRequest request)
    {
        if (OptionalObject(body, "metadata", "") is not { } metadata) return;
        request.User = OptionalString(metadata, "user_id", "metadata");
        var rest = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            if (key != "user_id") rest[key] = value?.DeepClone();
        }
        if (rest.Count > 0) request.Extensions[ExtensionPrefix + "metadata"] = rest;
    }
}
