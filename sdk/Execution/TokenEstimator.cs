using System.Text;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Sdk.Execution;

/// <summary>
/// A rough input-token count (UTF-8 bytes / 4, the usual rule of thumb) for upstreams without a count endpoint.
/// Clients use count_tokens to decide when to compact, where an estimate is good enough.
/// </summary>
public static class TokenEstimator
{
    public static long Estimate(ChatRequest request)
    {
        long bytes = 0;
        foreach (var part in request.System) bytes += Size(part);
        foreach (var message in request.Messages)
            foreach (var part in message.Parts) bytes += Size(part);
        foreach (var tool in request.Tools)
            bytes += Encoding.UTF8.GetByteCount(tool.Name) + Encoding.UTF8.GetByteCount(tool.Description ?? "") + Encoding.UTF8.GetByteCount(JsonText.Serialize(tool.Parameters));
        return Math.Max(1, (bytes + 3) / 4);
    }

    /// <summary>
    /// Input tokens counted with a real tokenizer (a plugin passes its own, for example cl100k from Microsoft.ML.Tokenizers):
    /// the request's text plus the few tokens each message costs in chat framing; images count as a fixed share.
    /// </summary>
    public static long Count(ChatRequest request, Func<string, int> countTokens)
    {
        const int perMessage = 3;
        long total = perMessage; // the reply's priming
        if (request.System.Count > 0) total += perMessage + request.System.Sum(p => Count(p, countTokens));
        foreach (var message in request.Messages) total += perMessage + message.Parts.Sum(p => Count(p, countTokens));
        foreach (var tool in request.Tools)
            total += countTokens(tool.Name) + countTokens(tool.Description ?? "") + countTokens(JsonText.Serialize(tool.Parameters));
        return Math.Max(1, total);
    }

    private static long Count(ContentPart part, Func<string, int> countTokens) => part switch
    {
        TextPart t => countTokens(t.Text),
        ReasoningPart r => countTokens(r.Text),
        ToolCallPart c => countTokens(c.Name) + countTokens(c.Arguments),
        ToolResultPart r => r.Content.Sum(p => Count(p, countTokens)),
        ImagePart => 1000,
        DocumentPart d => countTokens(d.Text ?? "") + (d.Data?.Length ?? 0) * 3 / 4 / 40,
        _ => 0,
    };

    private static long Size(ContentPart part) => part switch
    {
        TextPart t => Encoding.UTF8.GetByteCount(t.Text),
        ReasoningPart r => Encoding.UTF8.GetByteCount(r.Text),
        ToolCallPart c => Encoding.UTF8.GetByteCount(c.Name) + Encoding.UTF8.GetByteCount(c.Arguments),
        ToolResultPart r => r.Content.Sum(Size),
        ImagePart => 1000, // providers bill images by size; ~258-1600 tokens, counted as a fixed share
        DocumentPart d => Encoding.UTF8.GetByteCount(d.Text ?? "") + (d.Data?.Length ?? 0) * 3 / 4 / 10,
        _ => 0,
    };
}
