using System.Text;

namespace PluginProxy.Formats.Sse;

/// <summary>
/// One server-sent event: the <c>event:</c> name (null when absent) and the joined <c>data:</c> lines as UTF-8.
/// An event that <see cref="SseReader"/> yields is a view of the reader's buffer, valid until the reader moves on:
/// decode it at once (stream decoders parse <see cref="Utf8Data"/> without a string), or keep <see cref="Copy"/>.
/// </summary>
public readonly struct SseEvent : IEquatable<SseEvent>
{
    private readonly string? _data;

    /// <summary>An event over UTF-8 data (not copied).</summary>
    public SseEvent(string? @event, ReadOnlyMemory<byte> utf8Data)
    {
        Event = @event;
        Utf8Data = utf8Data;
    }

    /// <summary>An event over text (tests, tools, plugins that build events): its data is encoded once here.</summary>
    public SseEvent(string? @event, string data)
    {
        Event = @event;
        Utf8Data = Encoding.UTF8.GetBytes(data);
        _data = data;
    }

    public string? Event { get; }

    /// <summary>The data lines joined with <c>\n</c>, as UTF-8.</summary>
    public ReadOnlyMemory<byte> Utf8Data { get; }

    /// <summary>The data as a string; decoded on each read unless the event was built from a string.</summary>
    public string Data => _data ?? Encoding.UTF8.GetString(Utf8Data.Span);

    /// <summary>OpenAI's terminator <c>data: [DONE]</c>.</summary>
    public bool IsDone => Utf8Data.Span.SequenceEqual("[DONE]"u8);

    /// <summary>True when the data is empty or only whitespace (such events carry nothing to decode).</summary>
    public bool IsBlank => Utf8Data.Span.Trim(" \t\r\n"u8).IsEmpty;

    /// <summary>The same event with its own copy of the data, valid after the reader has moved on.</summary>
    public SseEvent Copy() => new(Event, Utf8Data.ToArray());

    public bool Equals(SseEvent other) => Event == other.Event && Utf8Data.Span.SequenceEqual(other.Utf8Data.Span);

    public override bool Equals(object? obj) => obj is SseEvent other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Event);
        hash.AddBytes(Utf8Data.Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(SseEvent left, SseEvent right) => left.Equals(right);

    public static bool operator !=(SseEvent left, SseEvent right) => !left.Equals(right);

    public override string ToString() => Event is null ? $"data: {Data}" : $"event: {Event} data: {Data}";
}
