namespace PluginProxy.Formats.Sse;

/// <summary>One server-sent event: the <c>event:</c> name (null when absent) and the joined <c>data:</c> lines.</summary>
public readonly record struct SseEvent(string? Event, string Data)
{
    /// <summary>OpenAI's terminator <c>data: [DONE]</c>.</summary>
    public bool IsDone => Data == "[DONE]";
}
