using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// Responses request body to canonical, read from the client's <see cref="JsonElement"/> without building a DOM. What
/// the request keeps as JSON (schemas, native tools and items, extensions) is copied with <see cref="JsonText.ToNode"/>,
/// so nothing refers to the body's document once decoding returns. Fields with no canonical home travel in
/// <see cref="ChatRequest.Extensions"/> as <c>responses.&lt;key&gt;</c> (nested ones as <c>responses.text.&lt;key&gt;</c> /
/// <c>responses.reasoning.&lt;key&gt;</c>).
/// </summary>
internal static class ResponsesRequestDecoder
{
    private static readonly string[] CanonicalKeys =
    [
        "model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
        "max_output_tokens", "temperature", "top_p", "text", "stream", "user",
    ];

    private static readonly FieldPath Body = FieldPath.Body;

    public static ChatRequest Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new RequestFormatException("the request body must be a JSON object");
        var request = new ChatRequest
        {
            Model = RequestFields.String(body, "model", Body) ?? "",
            ParallelToolCalls = RequestFields.Bool(body, "parallel_tool_calls", Body),
            Stream = RequestFields.Bool(body, "stream", Body) ?? false,
            // Responses always reports usage, so an upstream that needs asking (OpenAI chat) should be asked.
            IncludeUsage = true,
            User = RequestFields.String(body, "user", Body),
        };
        request.Sampling.Temperature = RequestFields.Number(body, "temperature", Body);
        request.Sampling.TopP = RequestFields.Number(body, "top_p", Body);
        request.Sampling.MaxOutputTokens = RequestFields.Integer(body, "max_output_tokens", Body);

        if (RequestFields.String(body, "instructions", Body) is { } instructions)
            request.System.Add(new TextPart(instructions));
        DecodeInput(body, request);
        DecodeTools(body, request);
        DecodeToolChoice(body, request);
        DecodeReasoning(body, request);
        DecodeText(body, request);

        CopyRest(body, CanonicalKeys, "", request.Extensions);
        return request;
    }

    private static void DecodeInput(JsonElement body, ChatRequest request)
    {
        if (!RequestFields.TryGet(body, "input", out var input)) throw new RequestFormatException("input is required");
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                request.Messages.Add(new Message(Role.User, new TextPart(input.GetString()!)));
                break;
            case JsonValueKind.Array:
                new ResponsesInputReader(request).ReadAll(input);
                break;
            default:
                throw new RequestFormatException("input must be a string or an array of items");
        }
    }

    private static void DecodeTools(JsonElement body, ChatRequest request)
    {
        if (!RequestFields.Array(body, "tools", Body, out var tools)) return;
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = new FieldPath("tools", i++);
            if (tool.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{at} must be an object");
            var type = RequestFields.RequiredString(tool, "type", at);
            request.Tools.Add(type switch
            {
                "function" => new ToolDefinition
                {
                    Name = RequestFields.RequiredString(tool, "name", at),
                    Description = RequestFields.String(tool, "description", at),
                    Parameters = RequestFields.Object(tool, "parameters", at, out var parameters) ? JsonText.ToNode(parameters) : null,
                    Strict = RequestFields.Bool(tool, "strict", at),
                },
                "google_search" => ServerTool(ToolKind.GoogleSearch, type, tool),
                "code_execution" => ServerTool(ToolKind.CodeExecution, type, tool),
                "url_context" => ServerTool(ToolKind.UrlContext, type, tool),
                _ => new ToolDefinition
                {
                    Kind = ToolKind.Native,
                    NativeDialect = Dialect.OpenAIResponses,
                    Name = Lenient.String(tool, "name") ?? type,
                    Config = JsonText.ToNode(tool),
                },
            });
        }
    }

    /// <summary>Gemini server tools written Responses-style (<c>{"type":"google_search", ...config}</c>); the config is the rest of the object.</summary>
    private static ToolDefinition ServerTool(ToolKind kind, string type, JsonElement tool)
    {
        var config = new JsonObject();
        foreach (var property in tool.EnumerateObject())
        {
            if (!property.NameEquals("type")) config[property.Name] = JsonText.ToNode(property.Value);
        }
        return new ToolDefinition { Kind = kind, Name = type, Config = config };
    }

    private static void DecodeToolChoice(JsonElement body, ChatRequest request)
    {
        if (!RequestFields.TryGet(body, "tool_choice", out var choice)) return;
        switch (choice.ValueKind)
        {
            case JsonValueKind.String:
                request.ToolChoice = choice.GetString() switch
                {
                    "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                    "none" => new ToolChoice { Mode = ToolChoiceMode.None },
                    "required" => new ToolChoice { Mode = ToolChoiceMode.Required },
                    // A mode this codec does not know leaves the upstream's default.
                    _ => null,
                };
                return;
            case JsonValueKind.Object when Lenient.String(choice, "type") == "function":
                request.ToolChoice = new ToolChoice
                {
                    Mode = ToolChoiceMode.Function,
                    Name = RequestFields.RequiredString(choice, "name", new FieldPath("tool_choice")),
                };
                return;
            case JsonValueKind.Object:
                // allowed_tools, hosted-tool and custom-tool choices have no canonical form; they are re-emitted as sent.
                request.Extensions[ResponsesExtensions.Prefix + "tool_choice"] = JsonText.ToNode(choice);
                return;
            default:
                throw new RequestFormatException("tool_choice must be a string or an object");
        }
    }

    private static void DecodeReasoning(JsonElement body, ChatRequest request)
    {
        if (!RequestFields.Object(body, "reasoning", Body, out var reasoning)) return;
        var at = new FieldPath("reasoning");
        var summary = RequestFields.String(reasoning, "summary", at);
        request.Reasoning = new ReasoningConfig
        {
            Effort = RequestFields.String(reasoning, "effort", at),
            Summary = summary,
            IncludeThoughts = summary is null ? null : summary != "none",
        };
        CopyRest(reasoning, ["effort", "summary"], "reasoning.", request.Extensions);
    }

    private static void DecodeText(JsonElement body, ChatRequest request)
    {
        if (!RequestFields.Object(body, "text", Body, out var text)) return;
        if (RequestFields.Object(text, "format", new FieldPath("text"), out var format))
        {
            var at = new FieldPath("text.format");
            var type = RequestFields.RequiredString(format, "type", at);
            request.ResponseFormat = type switch
            {
                "text" => new ResponseFormat { Kind = ResponseFormatKind.Text },
                "json_object" => new ResponseFormat { Kind = ResponseFormatKind.JsonObject },
                "json_schema" => new ResponseFormat
                {
                    Kind = ResponseFormatKind.JsonSchema,
                    Name = RequestFields.String(format, "name", at),
                    Schema = RequestFields.Object(format, "schema", at, out var schema) ? JsonText.ToNode(schema) : null,
                    Strict = RequestFields.Bool(format, "strict", at),
                },
                _ => null,
            };
            // A format type this codec does not know travels whole, for a Responses upstream only.
            if (request.ResponseFormat is null) request.Extensions[ResponsesExtensions.Prefix + "text.format"] = JsonText.ToNode(format);
            else CopyRest(format, ["type", "name", "schema", "strict"], "text.format.", request.Extensions);
        }
        CopyRest(text, ["format"], "text.", request.Extensions);
    }

    private static void CopyRest(JsonElement source, string[] handled, string pathPrefix, JsonObject extensions)
    {
        foreach (var property in source.EnumerateObject())
        {
            if (!ResponsesExtensions.NameIn(property, handled))
                extensions[ResponsesExtensions.Prefix + pathPrefix + property.Name] = JsonText.ToNode(property.Value);
        }
    }
}
