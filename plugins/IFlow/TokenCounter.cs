using Microsoft.ML.Tokenizers;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Sdk.Execution;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// count_tokens for an upstream without a count endpoint: cl100k_base (what CLIProxyAPI's tiktoken count uses for
/// non-OpenAI models) through the SDK's chat-framing count.
/// </summary>
internal static class TokenCounter
{
    // Loaded once per plugin load; the vocabulary lives in this plugin's load context and goes with it on unload.
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    public static long Count(ChatRequest request) => TokenEstimator.Count(request, text => Cl100k.Value.CountTokens(text));
}
