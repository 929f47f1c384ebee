using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.Gemini;

/// <summary>Finish reasons, usage, error statuses, timestamps and ids shared by the Gemini codec's parts.</summary>
internal static class GeminiMapping
{
    /// <summary>Gemini 3 accepts this in place of a real thought signature on history parts it did not produce.</summary>
    public const string SkipSignatureSentinel = "skip_thought_signature_validator";

    /// <summary>Part extension key holding a thought signature Gemini attached to a text or media part (calls have <see cref="ToolCallPart.Signature"/>).</summary>
    public const string SignatureKey = "gemini.thoughtSignature";

    private static readonly HashSet<string> FilterReasons =
        ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"];

    private static readonly HashSet<string> GeminiReasons =
    [
        "STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
        "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "NO_IMAGE", "IMAGE_RECITATION",
        "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "MISSING_THOUGHT_SIGNATURE", "MALFORMED_RESPONSE",
    ];

    public static FinishReason DecodeFinishReason(string reason, bool hasToolCalls) => reason switch
    {
        "STOP" => hasToolCalls ? FinishReason.ToolCalls : FinishReason.Stop,
        "MAX_TOKENS" => FinishReason.Length,
        _ when FilterReasons.Contains(reason) => FinishReason.ContentFilter,
        _ => FinishReason.Other,
    };

    public static string EncodeFinishReason(FinishReason reason, string? nativeReason) => reason switch
    {
        FinishReason.Stop or FinishReason.ToolCalls or FinishReason.StopSequence => "STOP",
        FinishReason.Length => "MAX_TOKENS",
        FinishReason.ContentFilter => IsGeminiReason(nativeReason) ? nativeReason! : "SAFETY",
        _ => IsGeminiReason(nativeReason) ? nativeReason! : "OTHER",
    };

    private static bool IsGeminiReason(string? reason) => reason is not null && GeminiReasons.Contains(reason);

    /// <summary>
    /// Gemini reports thoughts apart from candidates; canonical output includes reasoning. Tool-use prompt tokens
    /// (server tools such as Google Search) are input the caller pays for, so they count as input.
    /// </summary>
    public static Usage DecodeUsage(JsonObject metadata)
    {
        var prompt = GeminiJson.AsLong(GeminiJson.Get(metadata, "promptTokenCount")) ?? 0;
        var toolPrompt = GeminiJson.AsLong(GeminiJson.Get(metadata, "toolUsePromptTokenCount")) ?? 0;
        var candidates = GeminiJson.AsLong(GeminiJson.Get(metadata, "candidatesTokenCount")) ?? 0;
        var thoughts = GeminiJson.AsLong(GeminiJson.Get(metadata, "thoughtsTokenCount")) ?? 0;
        return new Usage
        {
            InputTokens = prompt + toolPrompt,
            OutputTokens = candidates + thoughts,
            ReasoningTokens = thoughts,
            CachedInputTokens = GeminiJson.AsLong(GeminiJson.Get(metadata, "cachedContentTokenCount")) ?? 0,
            TotalTokens = GeminiJson.AsLong(GeminiJson.Get(metadata, "totalTokenCount")),
        };
    }

    /// <summary><see cref="DecodeUsage(JsonObject)"/> over an element (stream chunks).</summary>
    public static Usage DecodeUsage(JsonElement metadata)
    {
        var prompt = GeminiJson.Long(metadata, "promptTokenCount") ?? 0;
        var toolPrompt = GeminiJson.Long(metadata, "toolUsePromptTokenCount") ?? 0;
        var candidates = GeminiJson.Long(metadata, "candidatesTokenCount") ?? 0;
        var thoughts = GeminiJson.Long(metadata, "thoughtsTokenCount") ?? 0;
        return new Usage
        {
            InputTokens = prompt + toolPrompt,
            OutputTokens = candidates + thoughts,
            ReasoningTokens = thoughts,
            CachedInputTokens = GeminiJson.Long(metadata, "cachedContentTokenCount") ?? 0,
            TotalTokens = GeminiJson.Long(metadata, "totalTokenCount"),
        };
    }

    public static JsonObject EncodeUsage(Usage usage)
    {
        var metadata = new JsonObject
        {
            ["promptTokenCount"] = usage.InputTokens,
            ["candidatesTokenCount"] = Math.Max(0, usage.OutputTokens - usage.ReasoningTokens),
            ["totalTokenCount"] = usage.Total,
        };
        if (usage.CachedInputTokens > 0) metadata["cachedContentTokenCount"] = usage.CachedInputTokens;
        if (usage.ReasoningTokens > 0) metadata["thoughtsTokenCount"] = usage.ReasoningTokens;
        return metadata;
    }

    /// <summary>google.rpc.Code name for an HTTP status, as Google's error bodies carry it.</summary>
    public static string StatusName(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        >= 500 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    };

    public static JsonObject Error(int status, string message, string? code)
    {
        var error = new JsonObject
        {
            ["code"] = status,
            ["message"] = message,
            ["status"] = StatusName(status),
        };
        if (!string.IsNullOrEmpty(code))
        {
            error["details"] = new JsonArray(new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
                ["reason"] = code,
            });
        }
        return new JsonObject { ["error"] = error };
    }

    /// <summary>RFC 3339 <c>createTime</c> to unix seconds.</summary>
    public static long? ParseCreateTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeSeconds()
            : null;

    public static string FormatCreateTime(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>An id for a function call Gemini sent without one; unique across responses so clients can pair results.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    public static string NewResponseId() => Guid.NewGuid().ToString("N")[..22];
}
