using System.Text.Json.Nodes;

namespace PluginProxy.Abstractions.Canonical;

public enum ToolKind
{
    Function,
    /// <summary>Gemini <c>google_search</c> grounding.</summary>
    GoogleSearch,
    /// <summary>Gemini <c>code_execution</c>.</summary>
    CodeExecution,
    /// <summary>Gemini <c>url_context</c>.</summary>
    UrlContext,
    /// <summary>Another dialect's server-side tool (Anthropic <c>web_search_20250305</c>, Responses <c>web_search</c>); see <see cref="ToolDefinition.Native"/>.</summary>
    Native,
}

public sealed class ToolDefinition
{
    public ToolKind Kind { get; set; } = ToolKind.Function;
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>JSON schema of the arguments (functions only).</summary>
    public JsonNode? Parameters { get; set; }
    public bool? Strict { get; set; }
    /// <summary>Configuration object of a server tool (for example the value of <c>google_search</c>), or the raw native tool.</summary>
    public JsonNode? Config { get; set; }
    /// <summary>Dialect of <see cref="Config"/> when <see cref="Kind"/> is <see cref="ToolKind.Native"/>.</summary>
    public Dialect? NativeDialect { get; set; }
    public JsonObject? Extensions { get; set; }
}

public enum ToolChoiceMode
{
    Auto,
    None,
    /// <summary>Must call some tool (OpenAI <c>required</c>, Anthropic <c>any</c>, Gemini <c>ANY</c>).</summary>
    Required,
    /// <summary>Must call the tool named <see cref="ToolChoice.Name"/>.</summary>
    Function,
}

public sealed class ToolChoice
{
    public ToolChoiceMode Mode { get; set; }
    public string? Name { get; set; }
}

/// <summary>
/// Reasoning controls. <see cref="Effort"/> is one of none, minimal, low, medium, high, xhigh, auto;
/// <see cref="BudgetTokens"/> is a token budget (-1 = dynamic, 0 = off). A codec uses whichever its dialect
/// speaks and converts the other with <see cref="ThinkingLevels"/>.
/// </summary>
public sealed class ReasoningConfig
{
    public string? Effort { get; set; }
    public int? BudgetTokens { get; set; }
    /// <summary>Whether thought text should be returned (Gemini <c>includeThoughts</c>, Responses <c>summary</c>).</summary>
    public bool? IncludeThoughts { get; set; }
    /// <summary>Responses <c>reasoning.summary</c> (auto/concise/detailed).</summary>
    public string? Summary { get; set; }
}
