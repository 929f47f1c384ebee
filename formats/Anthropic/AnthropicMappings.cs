using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.Anthropic;

/// <summary>Value mappings shared by the request, response and stream code: stop reasons, usage, error types, ids, extensions.</summary>
internal static class AnthropicMappings
{
    /// <summary>Prefix of this dialect's keys in canonical <c>Extensions</c> bags.</summary>
    public const string ExtensionPrefix = "anthropic.";

    public static FinishReason? FinishReasonFor(string? stopReason) => stopReason switch
    {
        null => null,
        "end_turn" => FinishReason.Stop,
        "stop_sequence" => FinishReason.StopSequence,
        "max_tokens" or "model_context_window_exceeded" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        "refusal" => FinishReason.ContentFilter,
        _ => FinishReason.Other,
    };

    private static bool IsStopReason(string? value) =>
        value is "end_turn" or "stop_sequence" or "max_tokens" or "model_context_window_exceeded" or "tool_use" or "refusal" or "pause_turn";

    /// <summary>
    /// The <c>stop_reason</c> to send. The upstream's native value wins when it is an Anthropic value that still agrees
    /// with the canonical reason (so <c>pause_turn</c> survives an Anthropic-to-Anthropic trip).
    /// </summary>
    public static string StopReasonFor(FinishReason? reason, string? nativeReason, bool sawToolCall)
    {
        if (IsStopReason(nativeReason) && (reason is null || FinishReasonFor(nativeReason) == reason))
            return nativeReason!;
        return reason switch
        {
            FinishReason.Stop => "end_turn",
            FinishReason.StopSequence => "stop_sequence",
            FinishReason.Length => "max_tokens",
            FinishReason.ToolCalls => "tool_use",
            FinishReason.ContentFilter => "refusal",
            FinishReason.Other => "end_turn",
            _ => sawToolCall ? "tool_use" : "end_turn",
        };
    }

    /// <summary>Anthropic usage: <c>input_tokens</c> excludes cache reads and cache writes, which the canonical count includes.</summary>
    public static JsonObject EncodeUsage(Usage? usage) => new()
    {
        ["input_tokens"] = usage is null ? 0 : Math.Max(0, usage.InputTokens - usage.CachedInputTokens - usage.CacheCreationInputTokens),
        ["cache_creation_input_tokens"] = usage?.CacheCreationInputTokens ?? 0,
        ["cache_read_input_tokens"] = usage?.CachedInputTokens ?? 0,
        ["output_tokens"] = usage?.OutputTokens ?? 0,
    };

    /// <summary>A message's usage object to canonical; null when it is not an object.</summary>
    public static Usage? DecodeUsage(JsonNode? usage) => usage is JsonObject counts
        ? DecodeUsage(AnthropicJson.Count(counts, "input_tokens"), AnthropicJson.Count(counts, "cache_read_input_tokens"),
            AnthropicJson.Count(counts, "cache_creation_input_tokens"), AnthropicJson.Count(counts, "output_tokens"))
        : null;

    public static Usage DecodeUsage(long inputTokens, long cacheRead, long cacheCreation, long outputTokens) => new()
    {
        InputTokens = inputTokens + cacheRead + cacheCreation,
        CachedInputTokens = cacheRead,
        CacheCreationInputTokens = cacheCreation,
        OutputTokens = outputTokens,
    };

    public static string ErrorTypeFor(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static int StatusForErrorType(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };

    public static bool IsErrorType(string? type) => StatusForErrorType(type) != 500 || type == "api_error";

    public static JsonObject ErrorBody(string type, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
    };

    /// <summary>An id shaped like Anthropic's (<c>msg_</c>/<c>toolu_</c> + 24 base62 characters).</summary>
    public static string NewId(string prefix)
    {
        const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        return prefix + RandomNumberGenerator.GetString(Alphabet, 24);
    }

    /// <summary>
    /// Keeps the keys of <paramref name="source"/> (a client request or an upstream answer) not listed in
    /// <paramref name="known"/> as <c>anthropic.*</c> extensions: only the names of kept keys are materialized; values are copied lazily.
    /// </summary>
    public static JsonObject? CollectExtras(JsonElement source, JsonObject? into, params string[] known)
    {
        foreach (var property in source.EnumerateObject())
        {
            if (NameIn(property, known)) continue;
            into ??= [];
            into[ExtensionPrefix + property.Name] = JsonText.ToNode(property.Value);
        }
        return into;
    }

    /// <summary>Whether the property's name is one of <paramref name="names"/>, compared without making a string of it.</summary>
    public static bool NameIn(JsonProperty property, string[] names)
    {
        foreach (var name in names)
        {
            if (property.NameEquals(name)) return true;
        }
        return false;
    }

    /// <summary>Writes the <c>anthropic.*</c> extensions back as keys of <paramref name="target"/>, never overwriting a key already set.</summary>
    public static void EmitExtras(JsonObject? extensions, JsonObject target, params string[] skip)
    {
        if (extensions is null) return;
        foreach (var (key, value) in extensions)
        {
            if (!key.StartsWith(ExtensionPrefix, StringComparison.Ordinal)) continue;
            var name = key[ExtensionPrefix.Length..];
            if (name.Length == 0 || target.ContainsKey(name) || Array.IndexOf(skip, name) >= 0) continue;
            target[name] = value?.DeepClone();
        }
    }
}
