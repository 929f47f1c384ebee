using System.Text;
using Microsoft.ML.Tokenizers;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// count_tokens for an upstream without a count endpoint: cl100k_base over the request's text (what CLIProxyAPI's tiktoken
/// count uses for non-OpenAI models), plus the few tokens each message costs in chat framing. Images count as a fixed share.
/// </summary>
internal static class TokenCounter
{
    // Loaded once per plugin load; the vocabulary lives in this plugin's load context and goes with it on unload.
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    private const int PerMessage = 3;
    private const int ImageTokens = 1000;

    public static long Count(ChatRequest request)
    {
        var tokenizer = Cl100k.Value;
        long total = PerMessage; // the reply's priming
        if (request.System.Count > 0) total += PerMessage + request.System.Sum(p => Count(tokenizer, p));
        foreach (var message in request.Messages) total += PerMessage + message.Parts.Sum(p => Count(tokenizer, p));
        foreach (var tool in request.Tools)
        {
            total += tokenizer.CountTokens(tool.Name) + tokenizer.CountTokens(tool.Description ?? "");
            total += tokenizer.CountTokens(JsonText.Serialize(tool.Parameters));
        }
        return Math.Max(1, total);
    }

    private static long Count(Tokenizer tokenizer, ContentPart part) => part switch
    {
        TextPart t => tokenizer.CountTokens(t.Text),
        ReasoningPart r => tokenizer.CountTokens(r.Text),
        ToolCallPart c => tokenizer.CountTokens(c.Name) + tokenizer.CountTokens(c.Arguments),
        ToolResultPart r => r.Content.Sum(p => Count(tokenizer, p)),
        ImagePart => ImageTokens,
        DocumentPart d => tokenizer.CountTokens(d.Text ?? "") + (d.Data?.Length ?? 0) * 3 / 4 / 40,
        _ => 0,
    };
}
