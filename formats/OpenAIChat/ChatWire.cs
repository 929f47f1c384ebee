using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>Small pieces of the Chat Completions wire format shared by requests, responses and streams.</summary>
internal static class ChatWire
{
    /// <summary>
    /// Finish reason for a choice. Stop-like reasons become <c>tool_calls</c> when the choice called tools, because
    /// agent loops key on that value (Gemini reports STOP even when it calls functions).
    /// </summary>
    public static string ToWireFinishReason(FinishReason? reason, bool calledTools) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ContentFilter => "content_filter",
        FinishReason.ToolCalls => "tool_calls",
        _ when calledTools => "tool_calls",
        _ => "stop",
    };

    public static FinishReason FromWireFinishReason(string reason) => reason switch
    {
        "stop" => FinishReason.Stop,
        // "max_tokens" is what some OpenAI-compatible Gemini bridges send instead of "length".
        "length" or "max_tokens" => FinishReason.Length,
        "tool_calls" or "function_call" => FinishReason.ToolCalls,
        "content_filter" => FinishReason.ContentFilter,
        _ => FinishReason.Other,
    };

    public static JsonObject UsageJson(Usage usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokens,
        ["completion_tokens"] = usage.OutputTokens,
        ["total_tokens"] = usage.Total,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokens },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
    };

    /// <summary>Reads an upstream <c>usage</c> object; null when absent or not an object.</summary>
    public static Usage? ParseUsage(JsonNode? node)
    {
        if (node is not JsonObject usage) return null;
        return new Usage
        {
            InputTokens = JsonRead.AsLong(usage["prompt_tokens"]) ?? 0,
            OutputTokens = JsonRead.AsLong(usage["completion_tokens"]) ?? 0,
            TotalTokens = JsonRead.AsLong(usage["total_tokens"]),
            CachedInputTokens = JsonRead.AsLong(usage["prompt_tokens_details"]?["cached_tokens"]) ?? 0,
            ReasoningTokens = JsonRead.AsLong(usage["completion_tokens_details"]?["reasoning_tokens"]) ?? 0,
        };
    }

    /// <summary>
    /// The same read of a usage element (stream chunks); a details value that is not an object reads as absent (the DOM
    /// version's indexer would throw on one).
    /// </summary>
    public static Usage? ParseUsage(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object) return null;
        return new Usage
        {
            InputTokens = JsonRead.AsLong(LenientJson.Get(usage, "prompt_tokens"u8)) ?? 0,
            OutputTokens = JsonRead.AsLong(LenientJson.Get(usage, "completion_tokens"u8)) ?? 0,
            TotalTokens = JsonRead.AsLong(LenientJson.Get(usage, "total_tokens"u8)),
            CachedInputTokens = JsonRead.AsLong(LenientJson.Get(LenientJson.Get(usage, "prompt_tokens_details"u8), "cached_tokens"u8)) ?? 0,
            ReasoningTokens = JsonRead.AsLong(LenientJson.Get(LenientJson.Get(usage, "completion_tokens_details"u8), "reasoning_tokens"u8)) ?? 0,
        };
    }

    /// <summary>The OpenAI error body: <c>{"error":{"message","type","code"}}</c>; type and default code follow the status.</summary>
    public static JsonObject ErrorBody(int status, string message, string? code)
    {
        var (type, defaultCode) = status switch
        {
            401 => ("authentication_error", "invalid_api_key"),
            403 => ("permission_error", null),
            404 => ("invalid_request_error", "model_not_found"),
            429 => ("rate_limit_error", "rate_limit_exceeded"),
            >= 500 => ("server_error", null),
            _ => ("invalid_request_error", (string?)null),
        };
        return new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] = type,
                ["code"] = code ?? defaultCode,
            },
        };
    }

    /// <summary>
    /// The exception for an <c>{"error":{...}}</c> object an upstream sent in place of an answer (mid-stream or with
    /// HTTP 200). The status comes from a numeric <c>code</c>/<c>status</c>, else from the error <c>type</c>.
    /// </summary>
    public static UpstreamException UpstreamError(JsonNode? error, string rawBody)
    {
        var status = JsonRead.AsLong(error?["code"]) ?? JsonRead.AsLong(error?["status"]) ?? 0;
        if (status is < 400 or > 599)
        {
            status = JsonRead.AsString(error?["type"]) switch
            {
                "invalid_request_error" => 400,
                "authentication_error" => 401,
                "permission_error" => 403,
                "not_found_error" => 404,
                "rate_limit_error" => 429,
                _ => 502,
            };
        }
        var message = JsonRead.AsString(error?["message"]) ?? JsonRead.AsString(error) ?? "upstream reported an error";
        return new UpstreamException(UpstreamException.KindFor((int)status), (int)status, message, rawBody);
    }

    public static string NewCompletionId(string prefix) => prefix + Guid.NewGuid().ToString("N");

    public static string NewToolCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
