using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Plugins.Codex.Models;

namespace PluginProxy.Plugins.Codex.Execution;

/// <summary>
/// The rules the Codex backend holds a Responses body to, applied alike to translated bodies and to the client's own
/// (passthrough) bytes: always streamed, never stored, encrypted reasoning included, instructions present, the
/// parameters it refuses removed, <c>system</c> input turned into <c>developer</c>, efforts it knows.
/// </summary>
internal static class CodexBody
{
    /// <summary>Fields the backend refuses (it answers 400 "Unsupported parameter").</summary>
    private static readonly string[] Unsupported =
    [
        "previous_response_id", "prompt_cache_retention", "safety_identifier", "max_output_tokens", "max_completion_tokens",
        "temperature", "top_p", "service_tier", "stream_options",
    ];

    private const string EncryptedReasoning = "reasoning.encrypted_content";

    /// <summary>Applies the rules to a body for <c>/responses</c>; returns the prompt cache key it carries (null when none).</summary>
    /// <param name="sessionHint">The client's <c>session_id</c>/<c>conversation_id</c> header, used as the key when the body has none.</param>
    public static string? ApplyResponses(JsonObject body, string model, string? sessionHint)
    {
        body["model"] = model;
        body["stream"] = true;
        body["store"] = false;
        if (body["instructions"] is not JsonValue) body["instructions"] = "";
        if (body["parallel_tool_calls"] is not JsonValue) body["parallel_tool_calls"] = true;
        foreach (var name in Unsupported) body.Remove(name);
        EnsureInclude(body);
        NormalizeInput(body);
        NormalizeReasoning(body, model);
        return CacheKey(body, sessionHint);
    }

    /// <summary>Applies the rules to a body for <c>/responses/compact</c> (a JSON answer, nothing streamed or stored).</summary>
    public static void ApplyCompact(JsonObject body, string model)
    {
        body["model"] = model;
        body.Remove("stream");
        body.Remove("store");
        body.Remove("include");
        if (body["instructions"] is not JsonValue) body["instructions"] = "";
        foreach (var name in Unsupported) body.Remove(name);
        NormalizeInput(body);
        NormalizeReasoning(body, model);
    }

    private static void EnsureInclude(JsonObject body)
    {
        if (body["include"] is not JsonArray include)
        {
            body["include"] = new JsonArray(EncryptedReasoning);
            return;
        }
        if (!include.Any(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == EncryptedReasoning))
            include.Add(EncryptedReasoning);
    }

    /// <summary>A string input becomes one user message (the backend takes a list only); system messages become developer messages.</summary>
    private static void NormalizeInput(JsonObject body)
    {
        if (body["input"] is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            body["input"] = new JsonArray(new JsonObject
            {
                ["type"] = "message",
                ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text.GetValue<string>() }),
            });
            return;
        }
        if (body["input"] is not JsonArray items) return;
        foreach (var item in items)
            if (item is JsonObject message && message["role"] is JsonValue role && role.GetValueKind() == JsonValueKind.String && role.GetValue<string>() == "system")
                message["role"] = "developer";
    }

    /// <summary>
    /// <c>max</c> (Anthropic's top effort) is <c>xhigh</c> here; a level the model does not take is clamped to the nearest
    /// one it does, so a Claude client's <c>max</c> on <c>gpt-5</c> asks for <c>high</c> instead of failing.
    /// </summary>
    private static void NormalizeReasoning(JsonObject body, string model)
    {
        if (body["reasoning"] is not JsonObject reasoning || reasoning["effort"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String) return;
        var effort = value.GetValue<string>().Trim().ToLowerInvariant();
        if (effort == "auto")
        {
            reasoning.Remove("effort");
            return;
        }
        reasoning["effort"] = Effort(effort, CodexModels.LevelsOf(model));
    }

    private static readonly string[] Ordered = ["none", "minimal", "low", "medium", "high", "xhigh"];

    internal static string Effort(string effort, IReadOnlyList<string>? levels)
    {
        if (effort == "max") effort = "xhigh";
        if (levels is null || levels.Count == 0 || levels.Contains(effort)) return effort;
        var rank = Array.IndexOf(Ordered, effort);
        if (rank < 0) return "medium";
        // Nearest supported level; ties go to the higher one (a client that asked for more thinking gets more).
        return levels.OrderBy(l => Math.Abs(Array.IndexOf(Ordered, l) - rank)).ThenByDescending(l => Array.IndexOf(Ordered, l)).First();
    }

    private static string? CacheKey(JsonObject body, string? sessionHint)
    {
        if (body["prompt_cache_key"] is JsonValue key && key.GetValueKind() == JsonValueKind.String && key.GetValue<string>() is { Length: > 0 } existing)
            return existing;
        if (string.IsNullOrWhiteSpace(sessionHint)) return null;
        body["prompt_cache_key"] = sessionHint;
        return sessionHint;
    }

    /// <summary>
    /// A stable cache key for clients that send no session (a Claude client's <c>metadata.user_id</c>): a UUID derived from
    /// model and user, so the same conversation lands on the same cache without the plugin keeping any state.
    /// </summary>
    public static string DerivedKey(string model, string user)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("codex-prompt-cache\0" + model + "\0" + user));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5 shape
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }
}
