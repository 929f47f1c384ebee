using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using static PluginProxy.Formats.Gemini.GeminiElement;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// A client's generateContent (or countTokens) body to the canonical request, read from the body's elements. What the
/// request keeps as JSON (schemas, extensions, native tools and parts) is copied out: the host disposes the body's
/// document as soon as decoding returns.
/// </summary>
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

    public static ChatRequest Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new RequestFormatException("the request body must be a JSON object");
        var root = default(RequestPath);
        var model = OptionalString(body, "model", root);
        // countTokens may wrap a whole request; the Cloud Code envelope (gemini-cli) wraps it as "request".
        if (OptionalObject(body, "generateContentRequest", root, out var countRequest))
        {
            body = countRequest;
            model = OptionalString(body, "model", new RequestPath("generateContentRequest")) ?? model;
        }
        else if (!Has(body, "contents") && OptionalObject(body, "request", root, out var envelope))
        {
            body = envelope;
        }

        var request = new ChatRequest { Model = StripModelsPrefix(model) ?? "" };
        var pairing = new CallPairing();
        DecodeContents(body, request, pairing);
        DecodeSystem(body, request, pairing);
        DecodeTools(body, request);
        DecodeToolConfig(body, request);
        if (OptionalObject(body, "generationConfig", root, out var generationConfig)) DecodeGenerationConfig(generationConfig, request);
        foreach (var field in PassthroughFields)
        {
            if (TryGet(body, field, out var value)) request.Extensions["gemini." + field] = JsonText.ToNode(value);
        }
        return request;
    }

    private static string? StripModelsPrefix(string? model) =>
        model is not null && model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;

    private static void DecodeContents(JsonElement body, ChatRequest request, CallPairing pairing)
    {
        if (!OptionalArray(body, "contents", default, out var contents)) throw new RequestFormatException("contents is required");
        var i = 0;
        foreach (var content in contents.EnumerateArray())
        {
            var path = new RequestPath().Append("contents", i++);
            RequireObject(content, path);
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

    private static List<ContentPart> DecodeParts(JsonElement content, in RequestPath path, CallPairing pairing)
    {
        if (!OptionalArray(content, "parts", path, out var array)) return [];
        var parts = new List<ContentPart>(array.GetArrayLength());
        var i = 0;
        foreach (var part in array.EnumerateArray())
        {
            var partPath = path.Append("parts", i++);
            RequireObject(part, partPath);
            parts.Add(GeminiParts.Decode(part, partPath, pairing));
        }
        return parts;
    }

    private static void DecodeSystem(JsonElement body, ChatRequest request, CallPairing pairing)
    {
        if (!TryGet(body, "systemInstruction", out var system)) return;
        switch (system.ValueKind)
        {
            case JsonValueKind.Object:
                request.System.AddRange(DecodeParts(system, new RequestPath("systemInstruction"), pairing));
                break;
            case JsonValueKind.String:
                request.System.Add(new TextPart(system.GetString()!));
                break;
            default:
                throw new RequestFormatException("systemInstruction must be an object with parts");
        }
    }

    private static void DecodeTools(JsonElement body, ChatRequest request)
    {
        if (!OptionalArray(body, "tools", default, out var tools)) return;
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = new RequestPath().Append("tools", i++);
            RequireObject(tool, path);
            foreach (var property in tool.EnumerateObject())
            {
                var value = property.Value;
                if (value.ValueKind == JsonValueKind.Null) continue;
                var field = GeminiJson.ToCamel(property.Name);
                switch (field)
                {
                    case "functionDeclarations":
                        if (value.ValueKind != JsonValueKind.Array) throw new RequestFormatException($"{path}.functionDeclarations must be an array");
                        var j = 0;
                        foreach (var declaration in value.EnumerateArray())
                        {
                            var declarationPath = path.Append("functionDeclarations", j++);
                            RequireObject(declaration, declarationPath);
                            request.Tools.Add(DecodeFunction(declaration, declarationPath));
                        }
                        break;
                    case "googleSearch":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search", Config = JsonText.ToNode(value) });
                        break;
                    case "codeExecution":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.CodeExecution, Name = "code_execution", Config = JsonText.ToNode(value) });
                        break;
                    case "urlContext":
                        request.Tools.Add(new ToolDefinition { Kind = ToolKind.UrlContext, Name = "url_context", Config = JsonText.ToNode(value) });
                        break;
                    default:
                        // googleSearchRetrieval, fileSearch, googleMaps, computerUse, ...: re-emitted as they came.
                        request.Tools.Add(new ToolDefinition
                        {
                            Kind = ToolKind.Native,
                            NativeDialect = Dialect.Gemini,
                            Name = field,
                            Config = new JsonObject { [field] = JsonText.ToNode(value) },
                        });
                        break;
                }
            }
        }
    }

    private static ToolDefinition DecodeFunction(JsonElement declaration, in RequestPath path)
    {
        var tool = new ToolDefinition
        {
            Name = OptionalString(declaration, "name", path) ?? throw new RequestFormatException($"{path.Field("name")} is required"),
            Description = OptionalString(declaration, "description", path),
        };
        if (TryGet(declaration, "parametersJsonSchema", out var jsonSchema))
        {
            tool.Parameters = JsonText.ToNode(jsonSchema);
        }
        else if (TryGet(declaration, "parameters", out var schema))
        {
            tool.Parameters = GeminiSchema.ToJsonSchema(schema);
            tool.Extensions = new JsonObject { [ParametersKey] = "parameters" };
        }
        foreach (var property in declaration.EnumerateObject())
        {
            var value = property.Value;
            // The fields read above, in either spelling, are skipped without allocating their names.
            if (value.ValueKind == JsonValueKind.Null
                || property.NameEquals("name"u8) || property.NameEquals("description"u8) || property.NameEquals("parameters"u8)
                || property.NameEquals("parametersJsonSchema"u8) || property.NameEquals("parameters_json_schema"u8)) continue;
            var field = GeminiJson.ToCamel(property.Name);
            if (field is "name" or "description" or "parameters" or "parametersJsonSchema") continue;
            // response, responseJsonSchema, behavior
            (tool.Extensions ??= [])["gemini." + field] = JsonText.ToNode(value);
        }
        return tool;
    }

    /// <summary>
    /// <c>functionCallingConfig</c> becomes the tool choice; what it cannot say (VALIDATED mode, several allowed
    /// names, retrievalConfig) stays in <c>gemini.toolConfig</c>, over which the encoder writes the tool choice.
    /// </summary>
    private static void DecodeToolConfig(JsonElement body, ChatRequest request)
    {
        if (!OptionalObject(body, "toolConfig", default, out var toolConfig)) return;
        var path = new RequestPath("toolConfig");
        var rest = new JsonObject();
        foreach (var property in toolConfig.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null) continue;
            var field = GeminiJson.ToCamel(property.Name);
            if (field != "functionCallingConfig") rest[field] = JsonText.ToNode(property.Value);
        }
        if (OptionalObject(toolConfig, "functionCallingConfig", path, out var config))
        {
            var configPath = new RequestPath("toolConfig.functionCallingConfig");
            var restConfig = new JsonObject();
            foreach (var property in config.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Null) continue;
                var field = GeminiJson.ToCamel(property.Name);
                if (field is not ("mode" or "allowedFunctionNames")) restConfig[field] = JsonText.ToNode(property.Value);
            }
            var allowed = new List<string>();
            if (OptionalArray(config, "allowedFunctionNames", configPath, out var names))
            {
                foreach (var name in names.EnumerateArray())
                    allowed.Add(LenientJson.String(name) ?? throw new RequestFormatException($"{configPath.Field("allowedFunctionNames")} must hold strings"));
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

    private static void DecodeGenerationConfig(JsonElement config, ChatRequest request)
    {
        var path = new RequestPath("generationConfig");
        var sampling = request.Sampling;
        foreach (var property in config.EnumerateObject())
        {
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null) continue;
            var field = GeminiJson.ToCamel(property.Name);
            // Each field is read by its camelCase name, which wins when a body spells a field both ways.
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
                    // Absent only for a key such as "stop__sequences", which camel-cases to this field but is found by neither spelling.
                    if (!OptionalArray(config, field, path, out var stops)) break;
                    foreach (var stop in stops.EnumerateArray())
                        sampling.StopSequences.Add(LenientJson.String(stop) ?? throw new RequestFormatException($"{path.Field("stopSequences")} must hold strings"));
                    break;
                case "thinkingConfig":
                    if (OptionalObject(config, field, path, out var thinking))
                        request.Reasoning = DecodeThinking(thinking, new RequestPath("generationConfig.thinkingConfig"));
                    break;
                case "responseMimeType" or "responseSchema" or "responseJsonSchema":
                    break;
                default:
                    request.Extensions[GenerationConfigPrefix + field] = JsonText.ToNode(value);
                    break;
            }
        }
        DecodeResponseFormat(config, request, path);
    }

    /// <summary>
    /// Gemini shows thought text only when <c>includeThoughts</c> is true, so an absent flag is recorded as false
    /// for upstreams (and client encoders) that would otherwise show it.
    /// </summary>
    private static ReasoningConfig DecodeThinking(JsonElement thinking, in RequestPath path)
    {
        var level = OptionalString(thinking, "thinkingLevel", path)?.ToLowerInvariant();
        return new ReasoningConfig
        {
            BudgetTokens = OptionalInt(thinking, "thinkingBudget", path),
            Effort = level is null or "thinking_level_unspecified" ? null : level,
            IncludeThoughts = OptionalBool(thinking, "includeThoughts", path) ?? false,
        };
    }

    private static void DecodeResponseFormat(JsonElement config, ChatRequest request, in RequestPath path)
    {
        var mimeType = OptionalString(config, "responseMimeType", path);
        var hasJsonSchema = TryGet(config, "responseJsonSchema", out var jsonSchema);
        var hasSchema = TryGet(config, "responseSchema", out var schema);
        if (string.Equals(mimeType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            request.ResponseFormat = hasJsonSchema
                ? new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = JsonText.ToNode(jsonSchema) }
                : hasSchema
                    ? new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = GeminiSchema.ToJsonSchema(schema) }
                    : new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
            if (!hasJsonSchema && hasSchema) request.Extensions[ResponseSchemaKey] = "responseSchema";
            return;
        }
        if (string.Equals(mimeType, "text/plain", StringComparison.OrdinalIgnoreCase) && !hasJsonSchema && !hasSchema)
        {
            request.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.Text };
            return;
        }
        // text/x.enum and other modes have no canonical form; keep the fields as they came.
        if (mimeType is not null) request.Extensions[GenerationConfigPrefix + "responseMimeType"] = mimeType;
        if (hasJsonSchema) request.Extensions[GenerationConfigPrefix + "responseJsonSchema"] = JsonText.ToNode(jsonSchema);
        if (hasSchema) request.Extensions[GenerationConfigPrefix + "responseSchema"] = JsonText.ToNode(schema);
    }
}
