using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Responses request body to canonical. Fields with no canonical home travel in <see cref="ChatRequest.Extensions"/>
/// as <c>responses.&lt;key&gt;</c> (nested ones as <c>responses.text.&lt;key&gt;</c> / <c>responses.reasoning.&lt;key&gt;</c>).
/// </summary>
internal static class ResponsesRequestDecoder
{
    private static readonly HashSet<string> CanonicalKeys =
    [
        "model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
        "max_output_tokens", "temperature", "top_p", "text", "stream", "user",
    ];

    public static ChatRequest Decode(JsonObject body)
    {
        var request = new ChatRequest
        {
            Model = RequestFields.String(body, "model", "model") ?? "",
            ParallelToolCalls = RequestFields.Bool(body, "parallel_tool_calls", "parallel_tool_calls"),
            Stream = RequestFields.Bool(body, "stream", "stream") ?? false,
            // Responses always reports usage, so an upstream that needs asking (OpenAI chat) should be asked.
            IncludeUsage = true,
            User = RequestFields.String(body, "user", "user"),
        };
        request.Sampling.Temperature = RequestFields.Number(body, "temperature", "temperature");
        request.Sampling.TopP = RequestFields.Number(body, "top_p", "top_p");
        request.Sampling.MaxOutputTokens = RequestFields.Integer(body, "max_output_tokens", "max_output_tokens");

        if (RequestFields.String(body, "instructions", "instructions") is { } instructions)
            request.System.Add(new TextPart(instructions));
        DecodeInput(body, request);
        DecodeTools(body, request);
        DecodeToolChoice(body, request);
        DecodeReasoning(body, request);
        DecodeText(body, request);

        foreach (var (key, value) in body)
        {
            if (!CanonicalKeys.Contains(key)) request.Extensions[ResponsesExtensions.Prefix + key] = value?.DeepClone();
        }
        return request;
    }

    private static void DecodeInput(JsonObject body, ChatRequest request)
    {
        switch (body["input"])
        {
            case null:
                throw new RequestFormatException("input is required");
            case JsonValue value when Lenient.String(value) is { } text:
                request.Messages.Add(new Message(Role.User, new TextPart(text)));
                break;
            case JsonArray items:
                new ResponsesInputReader(request).ReadAll(items);
                break;
            default:
                throw new RequestFormatException("input must be a string or an array of items");
        }
    }

    private static void DecodeTools(JsonObject body, ChatRequest request)
    {
        if (RequestFields.Array(body, "tools", "tools") is not { } tools) return;
        for (var i = 0; i < tools.Count; i++)
        {
            var path = $"tools[{i}]";
            if (tools[i] is not JsonObject tool) throw new RequestFormatException($"{path} must be an object");
            var type = RequestFields.RequiredString(tool, "type", path + ".type");
            request.Tools.Add(type switch
            {
                "function" => new ToolDefinition
                {
                    Name = RequestFields.RequiredString(tool, "name", path + ".name"),
                    Description = RequestFields.String(tool, "description", path + ".description"),
                    Parameters = RequestFields.Object(tool, "parameters", path + ".parameters")?.DeepClone(),
                    Strict = RequestFields.Bool(tool, "strict", path + ".strict"),
                },
                "google_search" => ServerTool(ToolKind.GoogleSearch, type, tool),
                "code_execution" => ServerTool(ToolKind.CodeExecution, type, tool),
                "url_context" => ServerTool(ToolKind.UrlContext, type, tool),
                _ => new ToolDefinition
                {
                    Kind = ToolKind.Native,
                    NativeDialect = Dialect.OpenAIResponses,
                    Name = Lenient.String(tool["name"]) ?? type,
                    Config = tool.DeepClone(),
                },
            });
        }
    }

    /// <summary>Gemini server tools written Responses-style (<c>{"type":"google_search", ...config}</c>); the config is the rest of the object.</summary>
    private static ToolDefinition ServerTool(ToolKind kind, string type, JsonObject tool)
    {
        var config = new JsonObject();
        foreach (var (key, value) in tool)
        {
            if (key != "type") config[key] = value?.DeepClone();
        }
        return new ToolDefinition { Kind = kind, Name = type, Config = config };
    }

    private static void DecodeToolChoice(JsonObject body, ChatRequest request)
    {
        switch (body["tool_choice"])
        {
            case null:
                return;
            case JsonValue value when Lenient.String(value) is { } mode:
                request.ToolChoice = mode switch
                {
                    "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                    "none" => new ToolChoice { Mode = ToolChoiceMode.None },
                    "required" => new ToolChoice { Mode = ToolChoiceMode.Required },
                    // A mode this codec does not know leaves the upstream's default.
                    _ => null,
                };
                return;
            case JsonObject choice when Lenient.String(choice["type"]) == "function":
                request.ToolChoice = new ToolChoice
                {
                    Mode = ToolChoiceMode.Function,
                    Name = RequestFields.RequiredString(choice, "name", "tool_choice.name"),
                };
                return;
            case JsonObject other:
                // allowed_tools, hosted-tool and custom-tool choices have no canonical form; they are re-emitted as sent.
                request.Extensions[ResponsesExtensions.Prefix + "tool_choice"] = other.DeepClone();
                return;
            default:
                throw new RequestFormatException("tool_choice must be a string or an object");
        }
    }

    private static void DecodeReasoning(JsonObject body, ChatRequest request)
    {
        if (RequestFields.Object(body, "reasoning", "reasoning") is not { } reasoning) return;
        var summary = RequestFields.String(reasoning, "summary", "reasoning.summary");
        request.Reasoning = new ReasoningConfig
        {
            Effort = RequestFields.String(reasoning, "effort", "reasoning.effort"),
            Summary = summary,
            IncludeThoughts = summary is null ? null : summary != "none",
        };
        CopyRest(reasoning, ["effort", "summary"], "reasoning.", request.Extensions);
    }

    private static void DecodeText(JsonObject body, ChatRequest request)
    {
        if (RequestFields.Object(body, "text", "text") is not { } text) return;
        if (RequestFields.Object(text, "format", "text.format") is { } format)
        {
            var type = RequestFields.RequiredString(format, "type", "text.format.type");
            request.ResponseFormat = type switch
            {
                "text" => new ResponseFormat { Kind = ResponseFormatKind.Text },
                "json_object" => new ResponseFormat { Kind = ResponseFormatKind.JsonObject },
                "json_schema" => new ResponseFormat
                {
                    Kind = ResponseFormatKind.JsonSchema,
                    Name = RequestFields.String(format, "name", "text.format.name"),
                    Schema = RequestFields.Object(format, "schema", "text.format.schema")?.DeepClone(),
                    Strict = RequestFields.Bool(format, "strict", "text.format.strict"),
                },
                _ => null,
            };
            // A format type this codec does not know travels whole, for a Responses upstream only.
            if (request.ResponseFormat is null) request.Extensions[ResponsesExtensions.Prefix + "text.format"] = format.DeepClone();
            else CopyRest(format, ["type", "name", "schema", "strict"], "text.format.", request.Extensions);
        }
        CopyRest(text, ["format"], "text.", request.Extensions);
    }

    private static void CopyRest(JsonObject source, string[] handled, string pathPrefix, JsonObject extensions)
    {
        foreach (var (key, value) in source)
        {
            if (!handled.Contains(key)) extensions[ResponsesExtensions.Prefix + pathPrefix + key] = value?.DeepClone();
        }
    }
}
