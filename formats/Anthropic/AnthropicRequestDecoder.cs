using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;
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

    public static ChatRequest Decode(JsonElement body)
    {
        try
        {
            if (body.ValueKind != JsonValueKind.Object) throw new FieldError("", "the body must be a JSON object");
            var request = new ChatRequest
            {
                Model = RequiredString(body, "model"),
                Stream = OptionalBool(body, "stream") ?? false,
            };
            request.Sampling.MaxOutputTokens = OptionalInt(body, "max_tokens");
            request.Sampling.Temperature = OptionalNumber(body, "temperature");
            request.Sampling.TopP = OptionalNumber(body, "top_p");
            request.Sampling.TopK = OptionalInt(body, "top_k");
            request.Sampling.StopSequences = DecodeStopSequences(body);

            request.System = TryGet(body, "system", out var system) ? DecodeSystem(system) : [];
            request.Messages = DecodeMessages(body);
            request.Tools = DecodeTools(body);
            DecodeToolChoice(body, request);
            DecodeThinking(body, request);
            DecodeMetadata(body, request);

            CollectExtras(body, request.Extensions, CoreKeys);
            return request;
        }
        catch (FieldError e)
        {
            throw e.ToRequestFormat();
        }
    }

    private static List<string> DecodeStopSequences(JsonElement body)
    {
        var list = new List<string>();
        if (OptionalArray(body, "stop_sequences") is not { } array) return list;
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw new FieldError($"stop_sequences[{i}]", "must be a string"));
            i++;
        }
        return list;
    }

    private static List<ContentPart> DecodeSystem(JsonElement system)
    {
        switch (system.ValueKind)
        {
            case JsonValueKind.Array:
                var parts = new List<ContentPart>(system.GetArrayLength());
                var noTools = new Dictionary<string, string>();
                var i = 0;
                foreach (var item in system.EnumerateArray())
                {
                    try
                    {
                        var block = Object(item);
                        // Only text is valid here; a block type this codec does not know is dropped rather than refused.
                        if (OptionalString(block, "type") == "text") parts.Add(AnthropicBlocks.Decode(block, noTools));
                    }
                    catch (FieldError e)
                    {
                        throw e.Under(i).Under("system");
                    }
                    i++;
                }
                return parts;
            case JsonValueKind.String:
                var text = system.GetString()!;
                return text.Length == 0 ? [] : [new TextPart(text)];
            default:
                throw new FieldError("system", "must be a string or an array of text blocks");
        }
    }

    /// <summary>
    /// Assistant turns map one to one. A user turn is split into runs: tool_result blocks become Role.Tool messages and
    /// everything else Role.User messages, in their original order (the encoder merges them back into one user turn).
    /// A mid-conversation <c>system</c> message becomes a Role.System message in place, wherever it stands (placement
    /// is the upstream's to judge), with its other keys (<c>output_config</c>) as message extensions. Messages of a role
    /// this codec does not know are dropped.
    /// </summary>
    private static List<Message> DecodeMessages(JsonElement body)
    {
        var array = OptionalArray(body, "messages") ?? throw new FieldError("messages", "is required");
        var messages = new List<Message>(array.GetArrayLength());
        var toolNames = new Dictionary<string, string>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            try
            {
                DecodeMessage(Object(item), messages, toolNames);
            }
            catch (FieldError e)
            {
                throw e.Under(i).Under("messages");
            }
            i++;
        }
        return messages;
    }

    private static void DecodeMessage(JsonElement message, List<Message> messages, Dictionary<string, string> toolNames)
    {
        Role role;
        switch (RequiredString(message, "role"))
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
                    Parts = Has(message, "content") ? DecodeContent(message, toolNames) : [],
                    Extensions = CollectExtras(message, null, "role", "content"),
                });
                return;
            default:
                return;
        }
        var parts = DecodeContent(message, toolNames);
        if (role == Role.Assistant)
        {
            messages.Add(new Message { Role = Role.Assistant, Parts = parts });
            return;
        }
        if (parts.Count == 0)
        {
            messages.Add(new Message { Role = Role.User });
            return;
        }
        SplitToolResults(parts, messages);
    }

    private static void SplitToolResults(List<ContentPart> parts, List<Message> messages)
    {
        Message? current = null;
        foreach (var part in parts)
        {
            var role = part is ToolResultPart ? Role.Tool : Role.User;
            if (current is null || current.Role != role)
            {
                if (current is not null) messages.Add(current);
                current = new Message { Role = role };
            }
            current.Parts.Add(part);
        }
        if (current is not null) messages.Add(current);
    }

    private static List<ContentPart> DecodeContent(JsonElement message, Dictionary<string, string> toolNames)
    {
        if (!TryGet(message, "content", out var content)) throw new FieldError("content", "is required");
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                var text = content.GetString()!;
                return text.Length == 0 ? [] : [new TextPart(text)];
            case JsonValueKind.Array:
                return AnthropicBlocks.DecodeList(content, toolNames, "content");
            default:
                throw new FieldError("content", "must be a string or an array of content blocks");
        }
    }

    /// <summary>
    /// Client tools become functions; typed Anthropic server tools (<c>web_search_20250305</c>, <c>bash_20250124</c>,
    /// <c>text_editor_*</c>, ...) stay native. The Gemini server tools are accepted as <c>{"type":"google_search"}</c>
    /// (likewise <c>code_execution</c>, <c>url_context</c>) or, without <c>type</c> and <c>input_schema</c>, as <c>{"name":"google_search"}</c>
    /// (so Anthropic's own <c>{"type":"code_execution_20250825","name":"code_execution"}</c> stays native);
    /// their config is the object under the tool's own name when present, else the remaining keys.
    /// </summary>
    private static List<ToolDefinition> DecodeTools(JsonElement body)
    {
        var tools = new List<ToolDefinition>();
        if (OptionalArray(body, "tools") is not { } array) return tools;
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            try
            {
                tools.Add(DecodeTool(Object(item)));
            }
            catch (FieldError e)
            {
                throw e.Under(i).Under("tools");
            }
            i++;
        }
        return tools;
    }

    /// <summary>One tool definition (also the by-value definition of a <c>tool_addition</c> block).</summary>
    public static ToolDefinition DecodeTool(JsonElement tool)
    {
        var type = OptionalString(tool, "type");
        var name = OptionalString(tool, "name");
        var serverKind = ServerToolKind(type) ?? (type is null && !tool.TryGetProperty("input_schema", out _) ? ServerToolKind(name) : null);
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
                Config = JsonText.ToNode(tool),
            };
        }
        JsonNode? parameters = null;
        if (TryGet(tool, "input_schema", out var schema))
        {
            if (schema.ValueKind != JsonValueKind.Object) throw new FieldError("input_schema", "must be an object");
            parameters = JsonText.ToNode(schema);
        }
        return new ToolDefinition
        {
            Name = name ?? throw new FieldError("name", "is required"),
            Description = OptionalString(tool, "description"),
            Parameters = parameters,
            Strict = OptionalBool(tool, "strict"),
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

    private static JsonNode ServerToolConfig(JsonElement tool, string kindName)
    {
        if (tool.TryGetProperty(kindName, out var nested) && nested.ValueKind == JsonValueKind.Object) return JsonText.ToNode(nested)!;
        return Except(tool, "type", "name");
    }

    /// <summary>The members of <paramref name="source"/> other than <paramref name="skip"/>, copied into a new object.</summary>
    private static JsonObject Except(JsonElement source, params string[] skip)
    {
        var copy = new JsonObject();
        foreach (var property in source.EnumerateObject())
        {
            if (!NameIn(property, skip)) copy[property.Name] = JsonText.ToNode(property.Value);
        }
        return copy;
    }

    private static void DecodeToolChoice(JsonElement body, ChatRequest request)
    {
        if (OptionalObject(body, "tool_choice") is not { } choice) return;
        try
        {
            request.ToolChoice = OptionalString(choice, "type") switch
            {
                "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                "any" => new ToolChoice { Mode = ToolChoiceMode.Required },
                "none" => new ToolChoice { Mode = ToolChoiceMode.None },
                "tool" => new ToolChoice { Mode = ToolChoiceMode.Function, Name = RequiredString(choice, "name") },
                // A choice this codec does not know leaves the upstream's default.
                _ => null,
            };
            if (OptionalBool(choice, "disable_parallel_tool_use") is { } disable) request.ParallelToolCalls = !disable;
        }
        catch (FieldError e)
        {
            throw e.Under("tool_choice");
        }
    }

    /// <summary>
    /// <c>enabled</c> → budget; <c>disabled</c> → effort none / budget 0; <c>adaptive</c> → budget -1 with the effort taken
    /// from <c>output_config.effort</c> (else "auto"). Effort without adaptive thinking is an output setting, not
    /// reasoning, and stays in <c>output_config</c>. <c>output_config.format</c> (json_schema) is the response format.
    /// </summary>
    private static void DecodeThinking(JsonElement body, ChatRequest request)
    {
        var outputConfig = OptionalObject(body, "output_config") is { } config ? Except(config) : null;
        if (outputConfig?["format"] is JsonObject format && Text(format, "type") == "json_schema")
        {
            request.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = format["schema"]?.DeepClone() };
            outputConfig.Remove("format");
        }

        if (OptionalObject(body, "thinking") is { } thinking)
        {
            try
            {
                switch (OptionalString(thinking, "type"))
                {
                    case "enabled":
                        request.Reasoning = new ReasoningConfig { BudgetTokens = OptionalInt(thinking, "budget_tokens"), IncludeThoughts = true };
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
            }
            catch (FieldError e)
            {
                throw e.Under("thinking");
            }
            var extras = Except(thinking, "type", "budget_tokens");
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

    private static void DecodeMetadata(JsonElement body, ChatRequest request)
    {
        if (OptionalObject(body, "metadata") is not { } metadata) return;
        try
        {
            request.User = OptionalString(metadata, "user_id");
        }
        catch (FieldError e)
        {
            throw e.Under("metadata");
        }
        var rest = Except(metadata, "user_id");
        if (rest.Count > 0) request.Extensions[ExtensionPrefix + "metadata"] = rest;
    }
}
