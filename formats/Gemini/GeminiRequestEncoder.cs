using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>
/// The canonical request to a Gemini generateContent body (camelCase; the model goes in the URL). A mid-conversation
/// system message becomes a <c>&lt;system-reminder&gt;</c> text part of a user turn: the user turn before it when there is
/// one, else a new user turn that the next user turn joins.
/// </summary>
internal static partial class GeminiRequestEncoder
{
    public static JsonObject Encode(ChatRequest request, string upstreamModel)
    {
        var body = new JsonObject { ["contents"] = EncodeContents(request.Messages) };
        var system = new JsonArray();
        foreach (var part in request.System)
        {
            if (GeminiParts.Encode(part, history: true) is { } encoded) system.Add(encoded);
        }
        if (system.Count > 0) body["systemInstruction"] = new JsonObject { ["parts"] = system };

        var hasFunctions = EncodeTools(request, body);
        if (EncodeToolConfig(request, hasFunctions) is { } toolConfig) body["toolConfig"] = toolConfig;
        if (EncodeGenerationConfig(request, upstreamModel) is { Count: > 0 } generationConfig) body["generationConfig"] = generationConfig;
        foreach (var field in GeminiRequestDecoder.PassthroughFields)
        {
            if (request.Extensions["gemini." + field] is { } value) body[field] = value.DeepClone();
        }
        return body;
    }

    private static JsonArray EncodeContents(List<Message> messages)
    {
        var contents = new JsonArray();
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonArray? previousResults = null;
        // The user content holding the latest system note, which the next user turn joins (keeping the alternation).
        JsonArray? noteParts = null;
        foreach (var message in messages)
        {
            if (message.Role == Role.System)
            {
                if (SystemNotes.Text(message) is not { } note) continue;
                var notePart = new JsonObject { ["text"] = SystemNotes.Reminder(note) };
                if (contents.Count > 0 && contents[^1] is JsonObject { } last && (string?)last["role"] == "user")
                {
                    noteParts = last["parts"]!.AsArray();
                    noteParts.Add(notePart);
                }
                else
                {
                    noteParts = [notePart];
                    contents.Add(new JsonObject { ["role"] = "user", ["parts"] = noteParts });
                    previousResults = null;
                }
                continue;
            }
            var role = message.Role == Role.Assistant ? "model" : "user";
            var parts = EncodeMessageParts(message.Parts, callNames, out var hasResults);
            if (role == "model") AddSignatureSentinel(parts);
            if (parts.Count == 0) continue;
            if (role == "user" && noteParts is not null && !hasResults)
            {
                foreach (var part in parts) noteParts.Add(part!.DeepClone());
                continue;
            }
            noteParts = null;
            // Gemini wants all responses to one model turn's calls in a single content (OpenAI sends one tool message per call).
            if (hasResults && previousResults is not null)
            {
                foreach (var part in parts) previousResults.Add(part!.DeepClone());
                continue;
            }
            contents.Add(new JsonObject { ["role"] = role, ["parts"] = parts });
            previousResults = hasResults ? parts : null;
        }
        return contents;
    }

    private static JsonArray EncodeMessageParts(List<ContentPart> source, Dictionary<string, string> callNames, out bool hasResults)
    {
        var parts = new JsonArray();
        var resultMedia = new List<JsonObject>();
        hasResults = false;
        foreach (var item in source)
        {
            switch (item)
            {
                case ToolResultPart result:
                    hasResults = true;
                    parts.Add(EncodeResult(result, callNames, resultMedia));
                    break;
                case ToolCallPart call:
                    callNames[call.Id] = call.Name;
                    parts.Add(GeminiParts.Encode(call, history: true)!);
                    break;
                case var part:
                    if (GeminiParts.Encode(part, history: true) is { } encoded) parts.Add(encoded);
                    break;
            }
        }
        // Images returned by tools travel as sibling parts, which every Gemini model accepts (Gemini CLI does the same).
        foreach (var media in resultMedia) parts.Add(media);
        return parts;
    }

    /// <summary>
    /// Thinking models reject a function-call turn whose first call has no thought signature. Calls that came from
    /// other dialects have none, so the first call of such a turn gets the sentinel Gemini accepts instead.
    /// </summary>
    private static void AddSignatureSentinel(JsonArray parts)
    {
        JsonObject? firstCall = null;
        foreach (var node in parts)
        {
            if (node is not JsonObject part || part["functionCall"] is null) continue;
            if (part["thoughtSignature"] is not null) return;
            firstCall ??= part;
        }
        if (firstCall is not null) firstCall["thoughtSignature"] = GeminiMapping.SkipSignatureSentinel;
    }

    /// <summary>
    /// <c>response</c> must be an object: a result that is a JSON object is sent as is, anything else as
    /// <c>{"result": text}</c> (errors as <c>{"error": ...}</c>, Gemini's convention).
    /// </summary>
    private static JsonObject EncodeResult(ToolResultPart result, Dictionary<string, string> callNames, List<JsonObject> media)
    {
        var texts = new List<string>();
        foreach (var part in result.Content)
        {
            switch (part)
            {
                case TextPart text:
                    texts.Add(text.Text);
                    break;
                case DocumentPart { Text: { } text }:
                    texts.Add(text);
                    break;
                case ImagePart or DocumentPart:
                    if (GeminiParts.Encode(part, history: true) is { } mediaPart) media.Add(mediaPart);
                    break;
            }
        }
        var content = string.Join("\n", texts);
        var parsed = JsonText.TryParse(content) as JsonObject;
        JsonObject response = result.IsError
            ? new JsonObject { ["error"] = parsed ?? (JsonNode)content }
            : parsed ?? new JsonObject { ["result"] = content };
        var encoded = new JsonObject
        {
            ["name"] = result.Name ?? callNames.GetValueOrDefault(result.ToolCallId) ?? "unknown",
            ["response"] = response,
        };
        if (!string.IsNullOrEmpty(result.ToolCallId)) encoded["id"] = result.ToolCallId;
        return new JsonObject { ["functionResponse"] = encoded };
    }

    /// <summary>Function declarations first (one tool), then server and native tools in request order.</summary>
    private static bool EncodeTools(ChatRequest request, JsonObject body)
    {
        var declarations = new JsonArray();
        var others = new List<JsonObject>();
        foreach (var tool in SystemNotes.DeclaredTools(request))
        {
            switch (tool.Kind)
            {
                case ToolKind.Function:
                    declarations.Add(EncodeFunction(tool));
                    break;
                case ToolKind.GoogleSearch:
                    others.Add(new JsonObject { ["googleSearch"] = tool.Config?.DeepClone() ?? new JsonObject() });
                    break;
                case ToolKind.CodeExecution:
                    others.Add(new JsonObject { ["codeExecution"] = tool.Config?.DeepClone() ?? new JsonObject() });
                    break;
                case ToolKind.UrlContext:
                    others.Add(new JsonObject { ["urlContext"] = tool.Config?.DeepClone() ?? new JsonObject() });
                    break;
                case ToolKind.Native when tool.NativeDialect == Dialect.Gemini && tool.Config is JsonObject config:
                    others.Add((JsonObject)config.DeepClone());
                    break;
            }
        }
        var tools = new JsonArray();
        if (declarations.Count > 0) tools.Add(new JsonObject { ["functionDeclarations"] = declarations });
        foreach (var other in others) tools.Add(other);
        if (tools.Count > 0) body["tools"] = tools;
        return declarations.Count > 0;
    }

    private static JsonObject EncodeFunction(ToolDefinition tool)
    {
        var declaration = new JsonObject { ["name"] = tool.Name };
        if (tool.Description is not null) declaration["description"] = tool.Description;
        if (tool.Parameters is not null)
        {
            var field = GeminiJson.AsString(tool.Extensions?[GeminiRequestDecoder.ParametersKey]) == "parameters" ? "parameters" : "parametersJsonSchema";
            declaration[field] = tool.Parameters.DeepClone();
        }
        if (tool.Extensions is not null)
        {
            foreach (var (key, value) in tool.Extensions)
            {
                if (key.StartsWith("gemini.", StringComparison.Ordinal) && key != GeminiRequestDecoder.ParametersKey && value is not null)
                    declaration[key["gemini.".Length..]] = value.DeepClone();
            }
        }
        return declaration;
    }

    private static JsonObject? EncodeToolConfig(ChatRequest request, bool hasFunctions)
    {
        var toolConfig = request.Extensions[GeminiRequestDecoder.ToolConfigKey]?.DeepClone() as JsonObject ?? [];
        var kept = toolConfig["functionCallingConfig"] as JsonObject;
        toolConfig.Remove("functionCallingConfig");
        if (hasFunctions && request.ToolChoice is { } choice)
        {
            var config = new JsonObject();
            var keptMode = GeminiJson.AsString(kept?["mode"]);
            config["mode"] = choice.Mode switch
            {
                ToolChoiceMode.None => "NONE",
                ToolChoiceMode.Required or ToolChoiceMode.Function => "ANY",
                _ => keptMode == "VALIDATED" ? keptMode : "AUTO",
            };
            if (choice.Mode == ToolChoiceMode.Function && choice.Name is not null)
                config["allowedFunctionNames"] = new JsonArray(choice.Name);
            if (kept is not null)
            {
                foreach (var (key, value) in kept)
                {
                    if (key != "mode" && !config.ContainsKey(key) && choice.Mode != ToolChoiceMode.None && value is not null)
                        config[key] = value.DeepClone();
                }
            }
            toolConfig["functionCallingConfig"] = config;
        }
        return toolConfig.Count > 0 ? toolConfig : null;
    }

    private static JsonObject EncodeGenerationConfig(ChatRequest request, string upstreamModel)
    {
        var config = new JsonObject();
        var sampling = request.Sampling;
        if (sampling.Temperature is { } temperature) config["temperature"] = temperature;
        if (sampling.TopP is { } topP) config["topP"] = topP;
        if (sampling.TopK is { } topK) config["topK"] = topK;
        if (sampling.MaxOutputTokens is { } maxOutputTokens) config["maxOutputTokens"] = maxOutputTokens;
        if (sampling.StopSequences.Count > 0) config["stopSequences"] = new JsonArray([.. sampling.StopSequences.Select(s => (JsonNode)s)]);
        if (sampling.CandidateCount is { } candidateCount) config["candidateCount"] = candidateCount;
        if (sampling.Seed is { } seed) config["seed"] = seed;
        if (sampling.PresencePenalty is { } presencePenalty) config["presencePenalty"] = presencePenalty;
        if (sampling.FrequencyPenalty is { } frequencyPenalty) config["frequencyPenalty"] = frequencyPenalty;
        if (request.ResponseFormat is { } format)
        {
            config["responseMimeType"] = format.Kind == ResponseFormatKind.Text ? "text/plain" : "application/json";
            if (format is { Kind: ResponseFormatKind.JsonSchema, Schema: { } schema })
            {
                var field = GeminiJson.AsString(request.Extensions[GeminiRequestDecoder.ResponseSchemaKey]) == "responseSchema" ? "responseSchema" : "responseJsonSchema";
                config[field] = schema.DeepClone();
            }
        }
        if (request.Reasoning is { } reasoning && EncodeThinking(reasoning, upstreamModel) is { Count: > 0 } thinking)
            config["thinkingConfig"] = thinking;
        foreach (var (key, value) in request.Extensions)
        {
            if (!key.StartsWith(GeminiRequestDecoder.GenerationConfigPrefix, StringComparison.Ordinal) || value is null) continue;
            var field = key[GeminiRequestDecoder.GenerationConfigPrefix.Length..];
            if (!config.ContainsKey(field)) config[field] = value.DeepClone();
        }
        return config;
    }

    /// <summary>
    /// A budget is sent as <c>thinkingBudget</c>. An effort becomes <c>thinkingLevel</c> on Gemini 3 and later
    /// (their native control; Gemini has no level above HIGH) and a budget on older models, which reject levels.
    /// Thought text is requested whenever thinking is on unless the request says otherwise.
    /// </summary>
    private static JsonObject EncodeThinking(ReasoningConfig reasoning, string upstreamModel)
    {
        var thinking = new JsonObject();
        var on = false;
        var effort = reasoning.Effort?.Trim().ToLowerInvariant();
        if (reasoning.BudgetTokens is { } budget)
        {
            thinking["thinkingBudget"] = budget;
            on = budget != 0;
        }
        else if (effort is "minimal" or "low" or "medium" or "high" or "xhigh" && UsesThinkingLevels(upstreamModel))
        {
            thinking["thinkingLevel"] = effort == "xhigh" ? "HIGH" : effort.ToUpperInvariant();
            on = true;
        }
        else if (ThinkingLevels.BudgetFor(effort) is { } effortBudget)
        {
            thinking["thinkingBudget"] = effortBudget;
            on = effortBudget != 0;
        }
        if (reasoning.IncludeThoughts is { } include) thinking["includeThoughts"] = include;
        else if (on) thinking["includeThoughts"] = true;
        return thinking;
    }

    private static bool UsesThinkingLevels(string model)
    {
        var match = GeminiMajorVersion().Match(model);
        return match.Success && int.TryParse(match.Groups[1].ValueSpan, out var major) && major >= 3;
    }

    [GeneratedRegex(@"gemini-(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex GeminiMajorVersion();
}
