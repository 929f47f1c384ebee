using System.Text.Json.Nodes;

namespace PluginProxy.Abstractions.Canonical;

/// <summary>
/// One step of a streamed answer. Decoders turn upstream SSE into these; encoders turn them into the client's
/// SSE. The sequence is: <see cref="ResponseStarted"/>, then any mix of content deltas per choice, then
/// <see cref="ChoiceFinished"/> per choice, <see cref="UsageReported"/> (any time, last wins) and finally
/// <see cref="ResponseCompleted"/>. Encoders close open blocks themselves when the kind of content changes.
/// Decoders never interleave the tool calls of a choice: a call's argument fragments all come before the next call
/// of that choice starts, and a choice's <see cref="GroundingReported"/> comes before its <see cref="ChoiceFinished"/>.
/// </summary>
public abstract class StreamEvent;

public sealed class ResponseStarted(string id, string model, long created) : StreamEvent
{
    public string Id { get; } = id;
    public string Model { get; } = model;
    /// <summary>Unix seconds.</summary>
    public long Created { get; } = created;
}

public sealed class TextDelta(int choice, string text) : StreamEvent
{
    public int Choice { get; } = choice;
    public string Text { get; } = text;
}

public sealed class ReasoningDelta(int choice, string text) : StreamEvent
{
    public int Choice { get; } = choice;
    public string Text { get; } = text;
}

/// <summary>
/// The signature that closes a reasoning block (Anthropic <c>signature_delta</c>, Gemini <c>thoughtSignature</c>, Responses
/// <c>encrypted_content</c>). A signature on a tool call travels on <see cref="ToolCallStarted"/> instead.
/// </summary>
public sealed class ReasoningSignature(int choice, string signature, Dialect dialect) : StreamEvent
{
    public int Choice { get; } = choice;
    public string Signature { get; } = signature;
    public Dialect Dialect { get; } = dialect;
}

/// <summary>Anthropic <c>redacted_thinking</c>, carried opaque.</summary>
public sealed class RedactedReasoning(int choice, string data) : StreamEvent
{
    public int Choice { get; } = choice;
    public string Data { get; } = data;
}

/// <summary>
/// A tool call begins. <see cref="Index"/> counts tool calls within the choice from 0. <see cref="Signature"/> is the
/// call's own signature (see <see cref="ToolCallPart.Signature"/>), only valid for <see cref="SignatureDialect"/>.
/// </summary>
public sealed class ToolCallStarted(int choice, int index, string id, string name, string? signature = null, Dialect? signatureDialect = null)
    : StreamEvent
{
    public int Choice { get; } = choice;
    public int Index { get; } = index;
    public string Id { get; } = id;
    public string Name { get; } = name;
    public string? Signature { get; } = signature;
    public Dialect? SignatureDialect { get; } = signatureDialect;
}

/// <summary>A fragment of a tool call's JSON arguments; fragments concatenate to the full JSON text.</summary>
public sealed class ToolCallArgumentsDelta(int choice, int index, string fragment) : StreamEvent
{
    public int Choice { get; } = choice;
    public int Index { get; } = index;
    public string Fragment { get; } = fragment;
}

public sealed class ImageDelta(int choice, string mediaType, string data) : StreamEvent
{
    public int Choice { get; } = choice;
    public string MediaType { get; } = mediaType;
    /// <summary>Base64 payload.</summary>
    public string Data { get; } = data;
}

/// <summary>A dialect-native part (see <see cref="NativePart"/>) inside a stream.</summary>
public sealed class NativeDelta(int choice, NativePart part) : StreamEvent
{
    public int Choice { get; } = choice;
    public NativePart Part { get; } = part;
}

/// <summary>Gemini grounding metadata for a choice; cumulative, so the last one wins.</summary>
public sealed class GroundingReported(int choice, JsonNode metadata) : StreamEvent
{
    public int Choice { get; } = choice;
    public JsonNode Metadata { get; } = metadata;
}

public sealed class ChoiceFinished(int choice, FinishReason reason, string? nativeReason = null) : StreamEvent
{
    public int Choice { get; } = choice;
    public FinishReason Reason { get; } = reason;
    public string? NativeReason { get; } = nativeReason;
}

public sealed class UsageReported(Usage usage) : StreamEvent
{
    public Usage Usage { get; } = usage;
}

/// <summary>The stream ended normally. Always last.</summary>
public sealed class ResponseCompleted : StreamEvent
{
    public static readonly ResponseCompleted Instance = new();
}
