using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats;

/// <summary>
/// Mid-conversation system messages (<see cref="Role.System"/>) for dialects that have no such message or no tool
/// changes: the message becomes plain text (a system message in OpenAI chat, a developer item in Responses, a
/// <c>&lt;system-reminder&gt;</c> in a Gemini user turn), and tools added by value are declared up front.
/// </summary>
public static class SystemNotes
{
    /// <summary>
    /// Anthropic's wording when a model takes no mid-conversation system message. Claude Code recognises a 400 that says
    /// this (the role, "system" and "not supported" close together) and retries with the notes inside user turns.
    /// </summary>
    public const string UnsupportedRoleMessage = "role 'system' is not supported on this model";

    /// <summary>The full message Anthropic gives for the system message at <paramref name="messageIndex"/>.</summary>
    public static string UnsupportedRoleError(int messageIndex) => $"messages.{messageIndex}.role: {UnsupportedRoleMessage}";

    /// <summary>The tag Claude Code itself uses for system text inside a user turn.</summary>
    public static string Reminder(string text) => $"<system-reminder>\n{text}\n</system-reminder>";

    /// <summary>The text of a system message: its text parts, then one sentence per tool change; null when it has none.</summary>
    public static string? Text(Message message)
    {
        var lines = new List<string>();
        foreach (var part in message.Parts)
        {
            switch (part)
            {
                case TextPart text when !string.IsNullOrWhiteSpace(text.Text):
                    lines.Add(text.Text);
                    break;
                case ToolChangePart change when ToolChangeText(change) is { } sentence:
                    lines.Add(sentence);
                    break;
            }
        }
        return lines.Count == 0 ? null : string.Join("\n\n", lines);
    }

    /// <summary>
    /// A tool change as a sentence for the model. The tool stays declared either way (a removed tool may still appear in
    /// the history's calls, and dialects without tool changes cannot withdraw one mid-conversation without breaking
    /// their prompt cache), so a removal asks the model not to call it.
    /// </summary>
    public static string? ToolChangeText(ToolChangePart change)
    {
        var name = change.Definition?.Name ?? change.Name;
        string subject;
        if (!string.IsNullOrEmpty(name))
            subject = change.ServerName is null ? $"The tool \"{name}\" is" : $"The tool \"{name}\" of MCP server \"{change.ServerName}\" is";
        else if (!string.IsNullOrEmpty(change.ServerName))
            subject = $"The tools of MCP server \"{change.ServerName}\" are";
        else
            return null;
        return change.Removed
            ? $"{subject} no longer available; do not call {(name is null ? "them" : "it")}."
            : $"{subject} now available.";
    }

    /// <summary>
    /// The request's tools plus tools that system messages add by value and that are not declared yet (by name), in
    /// order. Upstreams without tool changes need every callable tool declared up front.
    /// </summary>
    public static List<ToolDefinition> DeclaredTools(ChatRequest request)
    {
        List<ToolDefinition>? added = null;
        foreach (var message in request.Messages)
        {
            if (message.Role != Role.System) continue;
            foreach (var change in message.Parts.OfType<ToolChangePart>())
            {
                if (change is not { Removed: false, Definition: { } definition }) continue;
                added ??= [.. request.Tools];
                if (!added.Any(t => t.Name == definition.Name)) added.Add(definition);
            }
        }
        return added ?? request.Tools;
    }
}
