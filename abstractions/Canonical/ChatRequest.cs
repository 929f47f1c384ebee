using System.Text.Json.Nodes;

namespace PluginProxy.Abstractions.Canonical;

/// <summary>
/// One chat request in dialect-neutral form. Codecs decode client bodies into it and encode it into
/// upstream bodies. Fields that only one dialect has travel in <see cref="Extensions"/>.
/// </summary>
public sealed class ChatRequest
{
    /// <summary>The model as the client asked for it (routing may rewrite it before execution).</summary>
    public string Model { get; set; } = "";

    /// <summary>System instructions, in order (OpenAI system/developer messages, Anthropic <c>system</c>, Gemini <c>systemInstruction</c>).</summary>
    public List<ContentPart> System { get; set; } = [];

    public List<Message> Messages { get; set; } = [];

    public List<ToolDefinition> Tools { get; set; } = [];

    public ToolChoice? ToolChoice { get; set; }

    public bool? ParallelToolCalls { get; set; }

    public ReasoningConfig? Reasoning { get; set; }

    public SamplingOptions Sampling { get; set; } = new();

    public ResponseFormat? ResponseFormat { get; set; }

    public bool Stream { get; set; }

    /// <summary>OpenAI <c>stream_options.include_usage</c>; other dialects always report usage.</summary>
    public bool IncludeUsage { get; set; }

    /// <summary>End-user id (OpenAI <c>user</c>, Anthropic <c>metadata.user_id</c>).</summary>
    public string? User { get; set; }

    /// <summary>
    /// Dialect-specific fields with no canonical home, keyed by dialect-qualified name
    /// (for example <c>openai.logprobs</c>, <c>anthropic.metadata</c>, <c>gemini.safetySettings</c>).
    /// A codec re-emits the keys of its own dialect and ignores the others.
    /// </summary>
    public JsonObject Extensions { get; set; } = [];
}

public enum Role
{
    User,
    Assistant,
    /// <summary>A tool result turn (OpenAI <c>role:"tool"</c>). Anthropic and Gemini carry results in user turns.</summary>
    Tool,
    /// <summary>
    /// A system instruction at this point of the conversation (Anthropic mid-conversation <c>role:"system"</c> message),
    /// as opposed to <see cref="ChatRequest.System"/>, which precedes everything. Its parts are text and
    /// <see cref="ToolChangePart"/>s; codecs whose dialect has no such message render it as a system note.
    /// </summary>
    System,
}

public sealed class Message
{
    public Message() { }

    public Message(Role role, params ContentPart[] parts)
    {
        Role = role;
        Parts = [.. parts];
    }

    public Role Role { get; set; }

    public List<ContentPart> Parts { get; set; } = [];

    /// <summary>Optional participant name (OpenAI <c>name</c>).</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Dialect-qualified message-level fields with no canonical home (for example <c>anthropic.output_config</c> on a
    /// mid-conversation system message). A codec re-emits its own keys and ignores the others.
    /// </summary>
    public JsonObject? Extensions { get; set; }
}

/// <summary>Sampling and length controls shared by all dialects.</summary>
public sealed class SamplingOptions
{
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? TopK { get; set; }
    public int? MaxOutputTokens { get; set; }
    public List<string> StopSequences { get; set; } = [];
    public long? Seed { get; set; }
    public double? PresencePenalty { get; set; }
    public double? FrequencyPenalty { get; set; }
    /// <summary>OpenAI <c>n</c>, Gemini <c>candidateCount</c>.</summary>
    public int? CandidateCount { get; set; }
}

public enum ResponseFormatKind
{
    Text,
    JsonObject,
    JsonSchema,
}

/// <summary>JSON mode / structured output (OpenAI <c>response_format</c>, Responses <c>text.format</c>, Gemini <c>responseMimeType</c> + schema).</summary>
public sealed class ResponseFormat
{
    public ResponseFormatKind Kind { get; set; }
    public string? Name { get; set; }
    public JsonNode? Schema { get; set; }
    public bool? Strict { get; set; }
}
