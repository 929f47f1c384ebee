using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Tests.Formats.OpenAIChat;

/// <summary>Helpers shared by the OpenAIChat tests.</summary>
internal static class ChatTestData
{
    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>One line per canonical event, so a whole stream can be asserted with one Assert.Equal.</summary>
    public static string Describe(StreamEvent e) => e switch
    {
        ResponseStarted s => $"started {s.Id} {s.Model} {s.Created}",
        TextDelta t => $"text {t.Choice} {t.Text}",
        ReasoningDelta r => $"reasoning {r.Choice} {r.Text}",
        ReasoningSignature s => $"signature {s.Choice} {s.Dialect} {s.Signature}",
        ToolCallStarted c => $"call {c.Choice} {c.Index} {c.Id} {c.Name}",
        ToolCallArgumentsDelta a => $"args {a.Choice} {a.Index} {a.Fragment}",
        ImageDelta i => $"image {i.Choice} {i.MediaType} {i.Data}",
        GroundingReported g => $"grounding {g.Choice} {JsonText.Serialize(g.Metadata)}",
        ChoiceFinished f => $"finish {f.Choice} {f.Reason} {f.NativeReason}",
        UsageReported u => $"usage in={u.Usage.InputTokens} out={u.Usage.OutputTokens} cached={u.Usage.CachedInputTokens} reasoning={u.Usage.ReasoningTokens} total={u.Usage.TotalTokens}",
        ResponseCompleted => "completed",
        _ => e.GetType().Name,
    };

    public static List<string> Describe(IEnumerable<StreamEvent> events) => [.. events.Select(Describe)];
}
