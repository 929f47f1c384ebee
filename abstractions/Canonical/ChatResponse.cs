using System.Text.Json.Nodes;

namespace PluginProxy.Abstractions.Canonical;

/// <summary>A complete (non-streaming) answer.</summary>
public sealed class ChatResponse
{
    public string Id { get; set; } = "";
    public string Model { get; set; } = "";
    /// <summary>Unix seconds.</summary>
    public long Created { get; set; }
    public List<Choice> Choices { get; set; } = [];
    public Usage? Usage { get; set; }
    public JsonObject Extensions { get; set; } = [];
}

/// <summary>One candidate answer. Anthropic and Responses have exactly one; OpenAI <c>n</c> and Gemini <c>candidateCount</c> may give more.</summary>
public sealed class Choice
{
    public int Index { get; set; }
    /// <summary>Text, reasoning, tool calls and images, in the order the model produced them.</summary>
    public List<ContentPart> Parts { get; set; } = [];
    public FinishReason? FinishReason { get; set; }
    /// <summary>The upstream's own finish/stop reason string, kept for passthrough-like fidelity.</summary>
    public string? NativeFinishReason { get; set; }
    /// <summary>Gemini <c>groundingMetadata</c>, verbatim (camelCase inside).</summary>
    public JsonNode? GroundingMetadata { get; set; }
}

public enum FinishReason
{
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    /// <summary>A stop sequence matched (Anthropic distinguishes it; others report Stop).</summary>
    StopSequence,
    Other,
}

/// <summary>Token accounting. <see cref="InputTokens"/> includes cached tokens.</summary>
public sealed class Usage
{
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    /// <summary>Input tokens served from cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens, Gemini cachedContentTokenCount).</summary>
    public long CachedInputTokens { get; set; }
    /// <summary>Anthropic cache_creation_input_tokens.</summary>
    public long CacheCreationInputTokens { get; set; }
    /// <summary>Reasoning tokens, counted within <see cref="OutputTokens"/>.</summary>
    public long ReasoningTokens { get; set; }
    public long? TotalTokens { get; set; }

    public long Total => TotalTokens ?? InputTokens + OutputTokens;
}
