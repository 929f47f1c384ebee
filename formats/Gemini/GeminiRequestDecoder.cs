using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using static PluginProxy.Formats.Gemini.GeminiJson;

namespace PluginProxy.Formats.Gemini;

/// <summary>A client's generateContent (or countTokens) body to the canonical request.</summary>
internal static class GeminiRequestDecoder
{
    /// <summary>Top-level fields with no canonical home, kept as <c>gemini.&lt;field&gt;</c> and re-emitted verbatim.</summary>
    public static readonly string[] PassthroughFields = ["safetySettings", "cachedContent", "labels"];

    public const string ToolConfigKey = "gemini.toolConfig";
    public const string GenerationConfigPrefix = "gemini.generationConfig.";
    /// <summary>Set to <c>"parameters"</c> on a function tool declared with the OpenAPI-style field instead of <c>parametersJsonSchema</c>.</summary>
    public const string ParametersKey = "gemini.parametersKey";
    /// <summary>Set to <c>"responseSchema"</c> when the client used the OpenAPI-style field instead of <c>responseJsonSchema</c>.</summary>
    public const string ResponseSchemaKey = "gemini.responseSchemaKey";

    public static ChatRequest Decode(JsonObject body)
    {
        var model = OptionalString(body, "model", "");
        // countTokens may wrap a whole request; the Cloud Code envelope (gemini-cli) wraps it as "request".
        if (OptionalObject(body, "generateContentRequest", "") is { } countRequest)
        {
            body = countRequest;
            model = OptionalString(body, "model", "generateContentRequest") ?? model;
        }
        else if (!Has(body, "contents") && OptionalObject(body, "request", "") is { } envelope)
        {
            body = envelope;
        }

        var request = new ChatRequest { Model = StripModelsPrefix(model) ?? "" };
        var pairing = new CallPairing();
        DecodeContents(body, request, pairing);
        DecodeSystem(body, request, pairing);
        DecodeTools(body, request);
        DecodeToolConfig(body, request);
        if (OptionalObject(body, "generationConfig", "") is { } generationConfig) DecodeGenerationConfig(generationConfig, request);
        foreach (var field in PassthroughFields)
        {
            if (Get(body, field) is { } value) request.Extensions["gemini." + field] = value.DeepClone();
        }
        return request;
    }

    private static string? StripModelsPrefix(string? model) =>
        model is not null && model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;

    private static void DecodeContents(JsonObject body, ChatRequest request, CallPairing pairing)
    {
        var contents = OptionalArray(body, "contents", "") ?? throw new RequestFormatException("contents is required");
        for (var i = 0; i < contents.Count; i++)
        {
            var path = $"contents[{i}]";
            var content = RequireObject(contents[i], path);
            Role role;
            switch (OptionalString(content, "role", path))
            {
                case null or "" or "user":
                    role = Role.User;
                    break;
                case "model":
                    role = Role.Assistant;
                    break;
                case "function" or "tool":
                    role = Role.Tool;
                    break;
                default:
                    // A role this codec does not know is dropped, not refused.
                    continue;
            }
            var parts = DecodeParts(content, path, pairing);
            if (parts.Count > 0) request.Messages.Add(new Message { Role = role, Parts = parts });
        }
    }

    private static List<ContentPart> DecodeParts(JsonObject content, string path, CallPairing pairing)
    {
        var parts = new List<ContentPart>();
        if (OptionalArray(content, "parts", path) is not { } array) return parts;
        for (var i = 0; i < array.Count; i++)
        {
            var partPath = $"{path}.parts[{i}]";
            parts.Add(GeminiParts.Decode(RequireObject(array[i], partPath), partPath, pairing));
        }
        return parts;
    }

    private static void DecodeSystem(JsonObject body, ChatRequest request, CallPairing pairing)
    {
        switch (Get(body, "systemInstruction"))
        {
            case null:
                break;
            case JsonObject system:
                request.System.AddRange(DecodeParts(system, "systemInstruction", pairing));
                break;
            case var node when AsString(node) is { } text:
                request.System.Add(new TextPart(text));
                break;
            default:
                throw new RequestFormatException("systemInstruction must be an object with parts");
        }
    }

    private static void DecodeTools(JsonObject body, ChatRequest request)
    {
        if (OptionalArray(body, "tools", "") is not { } tools) return;
        for (var i = 0; i < tools.Count; i++)
        {
            var path = $"tools[{i}]";
            foreach (var (key, value) in RequireObject(tools[i], path))
            {
                if (value is null) continue;
                var field = ToCamel(key);
                switch (field)
                {
                    case "functionDeclarations":
                        var declarations = value as JsonArray ?? throw new RequestFormatException($"{path}.functionDeclarations must be an array");
                        for (var j = 0; j < declarations.Count; j++)
                        {
                            var declarationPath = $"{path}.functionDeclarations[{j}]";
                            request.Tools.Add(DecodeFunction(RequireObject(declarations[j], declarationPath), declarationPath));
                        }
                        break;
                    case "googleSearch":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search", Config = value.DeepClone() });
                        break;
                    case "codeExecution":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.CodeExecution, Name = "code_execution", Config = value.DeepClone() });
                        break;
                    case "urlContext":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.UrlContext, Name = "url_context", Config = value.DeepClone() });
                        break;
                    default:
                        // googleSearchRetrieval, fileSearch, googleMaps, computerUse, ...: re-emitted as they came.
                        request.Tools.Add(new ToolDefinition
                        {
                            Kind = ToolKind.Native,
                            NativeDialect = Dialect.Gemini,
                            Name = field,
                            Config = new JsonObject { [field] = value.DeepClone() },
                        });
                        break;
                }
            }
        }
    }

    private static ToolDefinition DecodeFunction(JsonObject declaration, string path)
    {
        var tool = new ToolDefinition
        {
            Name = OptionalString(declaration, "name", path) ?? throw new RequestFormatException($"{path}.name is required"),
            Description = OptionalString(declaration, "description", path),
        };
        if (Get(declaration, "parametersJsonSchema") is { } jsonSchema)
        {
            tool.Parameters = jsonSchema.DeepClone();
        }
        else if (Get(declaration, "parameters") is { } schema)
        {
            tool.Parameters = GeminiSchema.ToJsonSchema(schema);
            tool.Extensions = new JsonObject { [ParametersKey] = "parameters" };
        }
        foreach (var (key, value) in declaration)
        {
            var field = ToCamel(key);
            if (value is null || field is "name" or "description" or "parameters" or "parametersJsonSchema") continue;
            // response, responseJsonSchema, behavior
            (tool.Extensions ??= [])["gemini." + field] = value.DeepClone();
        }
        return tool;
    }

    /// <summary>
    /// <c>functionCallingConfig</c> becomes the tool choice; what it cannot say (VALIDATED mode, several allowed
    /// names, retrievalConfig) stays in <c>gemini.toolConfig</c>, over which the encoder writes the tool choice.
    /// </summary>
    private static void DecodeToolConfig(JsonObject body, ChatRequest request)
    {
        if (OptionalObject(body, "toolConfig", "") is not { } toolConfig) return;
        const string path = "toolConfig";
        var rest = new JsonObject();
        foreach (var (key, value) in toolConfig)
        {
            if (value is not null && ToCamel(key) != "functionCallingConfig") rest[ToCamel(key)] = value.DeepClone();
        }
        if (OptionalObject(toolConfig, "functionCallingConfig", path) is { } config)
        {
            const string configPath = path + ".functionCallingConfig";
            var restConfig = new JsonObject();
            foreach (var (key, value) in config)
            {
                if (value is not null && ToCamel(key) is not ("mode" or "allowedFunctionNames")) restConfig[ToCamel(key)] = value.DeepClone();
            }
            var allowed = new List<string>();
            if (OptionalArray(config, "allowedFunctionNames", configPath) is { } names)
            {
                foreach (var name in names)
                    allowed.Add(AsString(name) ?? throw new RequestFormatException($"{configPath}.allowedFunctionNames must hold strings"));
            }
            var mode = OptionalString(config, "mode", configPath)?.ToUpperInvariant();
            request.ToolChoice = mode switch
            {
                null or "MODE_UNSPECIFIED" => null,
                "AUTO" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                "NONE" => new ToolChoice { Mode = ToolChoiceMode.None },
                "ANY" when allowed.Count == 1 => new ToolChoice { Mode = ToolChoiceMode.Function, Name = allowed[0] },
                "ANY" => new ToolChoice { Mode = ToolChoiceMode.Required },
                "VALIDATED" => new ToolChoice { Mode = ToolChoiceMode.Auto },
                // A mode this codec does not know leaves the upstream's default.
                _ => null,
            };
            if (mode == "VALIDATED") restConfig["mode"] = mode;
            if (allowed.Count > 0 && request.ToolChoice?.Mode != ToolChoiceMode.Function)
                restConfig["allowedFunctionNames"] = new JsonArray([.. allowed.Select(n => (JsonNode)n)]);
            if (restConfig.Count > 0) rest["functionCallingConfig"] = restConfig;
        }
        if (rest.Count > 0) request.Extensions[ToolConfigKey] = rest;
    }

    private static void DecodeGenerationConfig(JsonObject config, ChatRequest request)
    {
        const string path = "generationConfig";
        var sampling = request.Sampling;
        foreach (var (key, value) in config)
        {
            if (value is null) continue;
            var field = ToCamel(key);
            switch (field)
            {
                case "temperature": sampling.Temperature = OptionalDouble(config, field, path); break;
                case "topP": sampling.TopP = OptionalDouble(config, field, path); break;
                case "topK": sampling.TopK = OptionalInt(config, field, path); break;
                case "maxOutputTokens": sampling.MaxOutputTokens = OptionalInt(config, field, path); break;
                case "candidateCount": sampling.CandidateCount = OptionalInt(config, field, path); break;
                case "seed": sampling.Seed = OptionalLong(config, field, path); break;
                case "presencePenalty": sampling.PresencePenalty = OptionalDouble(config, field, path); break;
                case "frequencyPenalty": sampling.FrequencyPenalty = OptionalDouble(config, field, path); break;
                case "stopSequences":
                    foreach (var stop in OptionalArray(config, field, path)!)
                        sampling.StopSequences.Add(AsString(stop) ?? throw new RequestFormatException($"{path}.stopSequences must hold strings"));
                    break;
                case "thinkingConfig":
                    request.Reasoning = DecodeThinking(OptionalObject(config, field, path)!, path + ".thinkingConfig");
                    break;
                case "responseMimeType" or "responseSchema" or "responseJsonSchema":
                    break;
                default:
                    request.Extensions[GenerationConfigPrefix + field] = value.DeepClone();
                    break;
            }
        }
        DecodeResponseFormat(config, request, path);
    }

    /// <summary>
    /// Gemini shows thought text only when <c>includeThoughts</c> is true, so an absent flag is recorded as false
    /// for upstreams (and client encoders) that would otherwise show it.
    /// </summary>
    private static ReasoningConfig DecodeThinking(JsonObject thinking, string path)
    {
        var level = OptionalString(thinking, "thinkingLevel", path)?.ToLowerInvariant();
        return new ReasoningConfig
        {
            BudgetTokens = OptionalInt(thinking, "thinkingBudget", path),
            Effort = level is null or "thinking_level_unspecified" ? null : level,
            IncludeThoughts = OptionalBool(thinking, "includeThoughts", path) ?? false,
        };
    }

    private static void DecodeResponseFormat(JsonObject config, ChatRequest request, string path)
    {
        var mimeType = OptionalString(config, "responseMimeType", path);
        var jsonSchema = Get(config, "responseJsonSchema");
        var schema = Get(config, "responseSchema");
        if (string.Equals(mimeType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            request.ResponseFormat = jsonSchema is not null
                ? new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = jsonSchema.DeepClone() }
                : schema is not null
                    ? new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = GeminiSchema.ToJsonSchema(schema) }
                    : new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
            if (jsonSchema is null && schema is not null) request.Extensions[ResponseSchemaKey] = "responseSchema";
            return;
        }
        if (string.Equals(mimeType, "text/plain", StringComparison.OrdinalIgnoreCase) && jsonSchema is null && schema is null)
        {
            request.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.Text };
            return;
        }
        // text/x.enum and other modes have no canonical form; keep the fields as they came.
        if (mimeType is not null) request.Extensions[GenerationConfigPrefix + "responseMimeType"] = mimeType;
        if (jsonSchema is not null) request.Extensions[GenerationConfigPrefix + "responseJsonSchema"] = jsonSchema.DeepClone();
        if (schema is not null) request.Extensions[GenerationConfigPrefix + "responseSchema"] = schema.DeepClone();
    }
}
