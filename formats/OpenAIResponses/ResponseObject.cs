using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>
/// The Responses <c>response</c> object (non-stream body, and the payload of response.created / in_progress /
/// completed). Like OpenAI it echoes the request's settings next to the output.
/// </summary>
internal static class ResponseObject
{
    /// <summary>Request fields that a response object does not carry. <c>background</c> is always false here (answers are synchronous).</summary>
    private static readonly HashSet<string> RequestOnlyKeys = ["include", "stream_options", "background"];

    public static JsonObject Create(string id, long createdAt, string model, ChatRequest request)
    {
        var response = new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = "in_progress",
            ["background"] = false,
            ["error"] = null,
            ["incomplete_details"] = null,
            ["instructions"] = ResponsesRequestEncoder.Instructions(request),
            ["max_output_tokens"] = request.Sampling.MaxOutputTokens,
            ["model"] = model,
            ["output"] = new JsonArray(),
            ["parallel_tool_calls"] = request.ParallelToolCalls ?? true,
            ["reasoning"] = ResponsesRequestEncoder.Reasoning(request.Reasoning) ?? new JsonObject(),
            ["temperature"] = request.Sampling.Temperature,
            ["text"] = new JsonObject { ["format"] = ResponsesRequestEncoder.Format(request.ResponseFormat) ?? new JsonObject { ["type"] = "text" } },
            ["tools"] = ResponsesRequestEncoder.Tools(request),
            ["top_p"] = request.Sampling.TopP,
            ["usage"] = null,
            ["user"] = request.User,
        };
        if (ResponsesRequestEncoder.ToolChoice(request.ToolChoice) is { } toolChoice) response["tool_choice"] = toolChoice;
        ResponsesRequestEncoder.WriteExtensions(response, request.Extensions, RequestOnlyKeys);
        // OpenAI's defaults for what the request left out.
        var reasoning = (JsonObject)response["reasoning"]!;
        SetDefault(reasoning, "effort", null);
        SetDefault(reasoning, "summary", null);
        SetDefault(response, "tool_choice", "auto");
        SetDefault(response, "store", false);
        SetDefault(response, "metadata", new JsonObject());
        return response;
    }

    /// <summary>Fills in the outcome: status (incomplete for length and content-filter stops), output, usage and grounding.</summary>
    public static void Finish(JsonObject response, FinishReason? reason, JsonArray output, Usage? usage, JsonNode? grounding)
    {
        var incompleteReason = IncompleteReason(reason);
        response["status"] = incompleteReason is null ? "completed" : "incomplete";
        response["incomplete_details"] = incompleteReason is null ? null : new JsonObject { ["reason"] = incompleteReason };
        response["output"] = output;
        response["usage"] = usage is null ? null : WriteUsage(usage);
        if (grounding is not null) response["grounding_metadata"] = grounding.DeepClone();
    }

    public static string? IncompleteReason(FinishReason? reason) => reason switch
    {
        FinishReason.Length => "max_output_tokens",
        FinishReason.ContentFilter => "content_filter",
        _ => null,
    };

    public static JsonObject WriteUsage(Usage usage) => new()
    {
        ["input_tokens"] = usage.InputTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokens },
        ["output_tokens"] = usage.OutputTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
        ["total_tokens"] = usage.Total,
    };

    public static Usage? ReadUsage(JsonNode? node)
    {
        if (node is not JsonObject usage) return null;
        return new Usage
        {
            InputTokens = Lenient.Long(usage["input_tokens"]) ?? 0,
            CachedInputTokens = Lenient.Long(usage["input_tokens_details"]?["cached_tokens"]) ?? 0,
            OutputTokens = Lenient.Long(usage["output_tokens"]) ?? 0,
            ReasoningTokens = Lenient.Long(usage["output_tokens_details"]?["reasoning_tokens"]) ?? 0,
            TotalTokens = Lenient.Long(usage["total_tokens"]),
        };
    }

    /// <summary>The same read of a stream event's usage element; a details value that is not an object reads as absent.</summary>
    public static Usage? ReadUsage(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object) return null;
        return new Usage
        {
            InputTokens = Lenient.Long(LenientJson.Get(usage, "input_tokens"u8)) ?? 0,
            CachedInputTokens = Lenient.Long(LenientJson.Get(LenientJson.Get(usage, "input_tokens_details"u8), "cached_tokens"u8)) ?? 0,
            OutputTokens = Lenient.Long(LenientJson.Get(usage, "output_tokens"u8)) ?? 0,
            ReasoningTokens = Lenient.Long(LenientJson.Get(LenientJson.Get(usage, "output_tokens_details"u8), "reasoning_tokens"u8)) ?? 0,
            TotalTokens = Lenient.Long(LenientJson.Get(usage, "total_tokens"u8)),
        };
    }

    /// <summary>A response id with OpenAI's <c>resp_</c> prefix (upstream ids from other dialects get it prepended).</summary>
    public static string NormalizeId(string? id) =>
        string.IsNullOrEmpty(id) ? "resp_" + Guid.NewGuid().ToString("N")
        : id.StartsWith("resp_", StringComparison.Ordinal) ? id
        : "resp_" + id;

    /// <summary>The part of a response id that item ids are built from (<c>msg_&lt;base&gt;_&lt;index&gt;</c>).</summary>
    public static string ItemIdBase(string responseId) => responseId.StartsWith("resp_", StringComparison.Ordinal) ? responseId[5..] : responseId;

    public static long NowUnixSeconds() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static void SetDefault(JsonObject target, string key, JsonNode? value)
    {
        if (!target.ContainsKey(key)) target[key] = value;
    }
}
