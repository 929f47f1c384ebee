using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>Non-streaming GenerateContentResponse bodies, both directions.</summary>
internal static class GeminiResponseCodec
{
    /// <summary>Candidate fields kept as <c>gemini.candidates.&lt;index&gt;.&lt;field&gt;</c> in the response extensions.</summary>
    private const string CandidatePrefix = "gemini.candidates.";
    private const string PromptFeedbackKey = "gemini.promptFeedback";

    /// <summary>
    /// Reads the answer in place: the caller disposes the document right after, so nothing kept points into it
    /// (strings are materialized, JSON kept whole — grounding, native parts, extensions — is copied out).
    /// </summary>
    public static ChatResponse Decode(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw new UpstreamException(FailureKind.Transient, 502, "Gemini answer is not a JSON object", JsonText.Serialize(body));
        var root = Unwrap(body);
        ThrowIfError(root);
        var response = new ChatResponse
        {
            Id = GeminiJson.String(root, "responseId") ?? GeminiMapping.NewResponseId(),
            Model = GeminiJson.String(root, "modelVersion") ?? "",
            Created = GeminiMapping.ParseCreateTime(GeminiJson.String(root, "createTime"))
                ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (GeminiElement.TryGet(root, "candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var candidate in candidates.EnumerateArray())
            {
                if (candidate.ValueKind == JsonValueKind.Object) response.Choices.Add(DecodeCandidate(candidate, i, response.Extensions));
                i++;
            }
        }
        if (GeminiJson.TryObject(root, "promptFeedback", out var feedback))
        {
            response.Extensions[PromptFeedbackKey] = JsonText.ToNode(feedback);
            if (response.Choices.Count == 0 && GeminiJson.String(feedback, "blockReason") is { } blockReason)
                response.Choices.Add(new Choice { FinishReason = FinishReason.ContentFilter, NativeFinishReason = blockReason });
        }
        if (GeminiJson.TryObject(root, "usageMetadata", out var usage)) response.Usage = GeminiMapping.DecodeUsage(usage);
        return response;
    }

    /// <summary>Cloud Code (gemini-cli, Antigravity) answers and stream chunks wrap the response as <c>{"response": ...}</c>.</summary>
    public static JsonElement Unwrap(JsonElement root) =>
        !root.TryGetProperty("candidates"u8, out _) && root.TryGetProperty("response"u8, out var inner) && inner.ValueKind == JsonValueKind.Object
            ? inner
            : root;

    /// <summary>
    /// An <c>{"error": {...}}</c> body (or stream chunk) becomes the upstream failure it describes; the rare error is
    /// copied to a DOM so its message and kept body read as they always have.
    /// </summary>
    public static void ThrowIfError(JsonElement root)
    {
        if (root.TryGetProperty("error"u8, out var error) && error.ValueKind == JsonValueKind.Object)
            ThrowIfError((JsonObject)JsonText.ToNode(root)!);
    }

    private static void ThrowIfError(JsonObject root)
    {
        if (root["error"] is not JsonObject error) return;
        var status = (int)(GeminiJson.AsLong(error["code"]) ?? 500);
        var message = GeminiJson.AsString(error["message"]) ?? $"upstream returned error {status}";
        throw new UpstreamException(UpstreamException.KindFor(status), status, message, JsonText.Serialize(root));
    }

    private static Choice DecodeCandidate(JsonElement candidate, int position, JsonObject extensions)
    {
        var choice = new Choice { Index = (int)(GeminiJson.Long(candidate, "index") ?? position) };
        if (GeminiJson.TryObject(candidate, "content", out var content)
            && GeminiElement.TryGet(content, "parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            // Parts are read by the same element readers as requests' parts.
            var i = -1;
            foreach (var part in parts.EnumerateArray())
            {
                i++;
                if (part.ValueKind != JsonValueKind.Object) continue;
                try
                {
                    choice.Parts.Add(GeminiParts.Decode(part, new RequestPath($"candidates[{position}].content.parts[{i}]"), pairing: null));
                }
                catch (RequestFormatException e)
                {
                    // The part readers speak of client input; here the upstream sent something malformed.
                    throw new UpstreamException(FailureKind.Transient, 502, "Gemini answer is malformed: " + e.Message, JsonText.Serialize(part));
                }
            }
        }
        if (GeminiJson.String(candidate, "finishReason") is { } finishReason)
        {
            choice.FinishReason = GeminiMapping.DecodeFinishReason(finishReason, choice.Parts.Any(p => p is ToolCallPart));
            choice.NativeFinishReason = finishReason;
        }
        if (GeminiElement.TryGet(candidate, "groundingMetadata", out var grounding)) choice.GroundingMetadata = JsonText.ToNode(grounding);
        foreach (var property in candidate.EnumerateObject())
        {
            // The fields read above are skipped without materializing their names (the usual camelCase spelling).
            if (property.Value.ValueKind == JsonValueKind.Null
                || property.NameEquals("content"u8) || property.NameEquals("finishReason"u8)
                || property.NameEquals("index"u8) || property.NameEquals("groundingMetadata"u8))
                continue;
            var field = GeminiJson.ToCamel(property.Name);
            // urlContextMetadata, citationMetadata, safetyRatings, finishMessage, avgLogprobs, ...
            if (field is not ("content" or "finishReason" or "index" or "groundingMetadata"))
                extensions[$"{CandidatePrefix}{choice.Index}.{field}"] = JsonText.ToNode(property.Value);
        }
        return choice;
    }

    public static JsonObject Encode(ChatResponse response, ChatRequest request)
    {
        var showThoughts = request.Reasoning?.IncludeThoughts != false;
        var candidates = new JsonArray();
        foreach (var choice in response.Choices)
        {
            var candidate = new JsonObject
            {
                ["content"] = new JsonObject { ["role"] = "model", ["parts"] = EncodeParts(choice.Parts, showThoughts) },
            };
            if (choice.FinishReason is { } reason) candidate["finishReason"] = GeminiMapping.EncodeFinishReason(reason, choice.NativeFinishReason);
            candidate["index"] = choice.Index;
            if (choice.GroundingMetadata is not null) candidate["groundingMetadata"] = choice.GroundingMetadata.DeepClone();
            var prefix = $"{CandidatePrefix}{choice.Index}.";
            foreach (var (key, value) in response.Extensions)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal) && value is not null) candidate[key[prefix.Length..]] = value.DeepClone();
            }
            candidates.Add(candidate);
        }
        var body = new JsonObject { ["candidates"] = candidates };
        if (response.Extensions[PromptFeedbackKey] is { } feedback) body["promptFeedback"] = feedback.DeepClone();
        if (response.Usage is { } usage) body["usageMetadata"] = GeminiMapping.EncodeUsage(usage);
        body["modelVersion"] = string.IsNullOrEmpty(response.Model) ? request.Model : response.Model;
        body["responseId"] = response.Id;
        if (response.Created > 0) body["createTime"] = GeminiMapping.FormatCreateTime(response.Created);
        return body;
    }

    private static JsonArray EncodeParts(List<ContentPart> source, bool showThoughts)
    {
        var parts = new JsonArray();
        foreach (var item in source)
        {
            var part = item is ReasoningPart { Text.Length: > 0 } reasoning && !showThoughts ? HiddenThought(reasoning) : item;
            if (part is not null && GeminiParts.Encode(part, history: false) is { } encoded) parts.Add(encoded);
        }
        return parts;
    }

    /// <summary>With <c>includeThoughts:false</c> Gemini omits thought text but still returns the signature.</summary>
    private static ReasoningPart? HiddenThought(ReasoningPart reasoning) =>
        reasoning is { SignatureDialect: Dialect.Gemini, Signature.Length: > 0 }
            ? new ReasoningPart { Signature = reasoning.Signature, SignatureDialect = Dialect.Gemini }
            : null;
}
