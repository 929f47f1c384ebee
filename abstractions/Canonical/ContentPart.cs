using System.Text.Json.Nodes;

namespace PluginProxy.Abstractions.Canonical;

/// <summary>One piece of a message. Closed set; codecs switch on the concrete type.</summary>
public abstract class ContentPart
{
    /// <summary>Dialect-qualified extras for this part (for example <c>anthropic.cache_control</c>).</summary>
    public JsonObject? Extensions { get; set; }
}

public sealed class TextPart(string text) : ContentPart
{
    public string Text { get; set; } = text;
}

/// <summary>An image given inline (base64 <see cref="Data"/> with <see cref="MediaType"/>) or by <see cref="Url"/>.</summary>
public sealed class ImagePart : ContentPart
{
    public string? MediaType { get; set; }
    /// <summary>Base64 payload, without any <c>data:</c> prefix.</summary>
    public string? Data { get; set; }
    /// <summary>Remote URL (http/https or a Gemini file URI).</summary>
    public string? Url { get; set; }
    /// <summary>OpenAI <c>detail</c> (auto/low/high).</summary>
    public string? Detail { get; set; }
}

/// <summary>A document or file (PDF, text) where a dialect has them.</summary>
public sealed class DocumentPart : ContentPart
{
    public string? MediaType { get; set; }
    public string? Data { get; set; }
    public string? Url { get; set; }
    public string? Title { get; set; }
    /// <summary>Plain-text document body (Anthropic <c>source.type:"text"</c>).</summary>
    public string? Text { get; set; }
}

/// <summary>
/// Model reasoning ("thinking"). <see cref="Signature"/> is opaque and kept byte-exact; it is only valid for
/// the dialect named in <see cref="SignatureDialect"/>, so codecs of other dialects drop it rather than forward it.
/// </summary>
public sealed class ReasoningPart : ContentPart
{
    public string Text { get; set; } = "";
    public string? Signature { get; set; }
    public Dialect? SignatureDialect { get; set; }
    /// <summary>Anthropic <c>redacted_thinking</c> data; such a part has no text.</summary>
    public string? RedactedData { get; set; }
}

/// <summary>An assistant's request to call a tool.</summary>
public sealed class ToolCallPart : ContentPart
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>Arguments as JSON text (OpenAI keeps them as a string; others as an object).</summary>
    public string Arguments { get; set; } = "{}";
    /// <summary>
    /// An opaque signature attached to the call itself (Gemini <c>thoughtSignature</c> on a <c>functionCall</c> part),
    /// kept byte-exact. Like <see cref="ReasoningPart.Signature"/> it is only valid for <see cref="SignatureDialect"/>;
    /// codecs of other dialects drop it rather than forward it.
    /// </summary>
    public string? Signature { get; set; }
    public Dialect? SignatureDialect { get; set; }
}

/// <summary>The result of a tool call, linked by <see cref="ToolCallId"/>.</summary>
public sealed class ToolResultPart : ContentPart
{
    public string ToolCallId { get; set; } = "";
    /// <summary>Function name when known (Gemini needs it; OpenAI does not carry it).</summary>
    public string? Name { get; set; }
    public List<ContentPart> Content { get; set; } = [];
    public bool IsError { get; set; }
}

/// <summary>
/// A change of the tools offered to the model from this point of the conversation on (Anthropic <c>tool_addition</c> /
/// <c>tool_removal</c> blocks in a <see cref="Role.System"/> message). The tool is named by <see cref="Name"/> (and
/// <see cref="ServerName"/> for MCP tools; a whole MCP toolset has only <see cref="ServerName"/>), or given by value in
/// <see cref="Definition"/>. Dialects without such changes keep <c>tools</c> as declared (plus added definitions) and
/// tell the model in a system note.
/// </summary>
public sealed class ToolChangePart : ContentPart
{
    /// <summary>True for a removal (the tool is no longer offered), false for an addition.</summary>
    public bool Removed { get; set; }
    public string? Name { get; set; }
    public string? ServerName { get; set; }
    /// <summary>The tool given by value (an addition of a tool not in the request's tools).</summary>
    public ToolDefinition? Definition { get; set; }
}

/// <summary>
/// A dialect-native part with no canonical equivalent (Gemini <c>executableCode</c> / <c>codeExecutionResult</c>,
/// Anthropic <c>server_tool_use</c>, ...). The codec of <see cref="Dialect"/> re-emits <see cref="Json"/> verbatim;
/// other codecs may render it as text or drop it.
/// </summary>
public sealed class NativePart(Dialect dialect, JsonNode json) : ContentPart
{
    public Dialect Dialect { get; } = dialect;
    public JsonNode Json { get; } = json;
}
