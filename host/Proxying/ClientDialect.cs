using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIChat;

namespace PluginProxy.Host.Proxying;

/// <summary>What an endpoint does, beyond its dialect.</summary>
internal enum Operation
{
    Generate,
    CountTokens,
}

/// <summary>
/// The client-facing side of one endpoint: how its bodies decode and its answers and errors encode. Mostly a dialect
/// codec; legacy <c>/v1/completions</c> is the chat dialect with its own body shapes.
/// </summary>
internal sealed class ClientDialect
{
    private ClientDialect(Dialect dialect, bool legacyCompletions)
    {
        Dialect = dialect;
        LegacyCompletions = legacyCompletions;
        Codec = Codecs.For(dialect);
    }

    public static readonly ClientDialect OpenAIChat = new(Dialect.OpenAIChat, false);
    public static readonly ClientDialect Completions = new(Dialect.OpenAIChat, true);
    public static readonly ClientDialect OpenAIResponses = new(Dialect.OpenAIResponses, false);
    public static readonly ClientDialect Anthropic = new(Dialect.Anthropic, false);
    public static readonly ClientDialect Gemini = new(Dialect.Gemini, false);

    public Dialect Dialect { get; }
    public IDialectCodec Codec { get; }
    public bool LegacyCompletions { get; }

    /// <summary>Passthrough keeps the client's exact bytes; legacy completions always go through chat.</summary>
    public bool AllowsPassthrough => !LegacyCompletions;

    public ChatRequest Decode(JsonElement body) =>
        LegacyCompletions ? CompletionsAdapter.DecodeRequest(JsonObject.Create(body.Clone())!) : Codec.DecodeRequest(body);

    public JsonObject Encode(ChatResponse response, ChatRequest request) =>
        LegacyCompletions ? CompletionsAdapter.EncodeResponse(response, request) : Codec.EncodeResponse(response, request);

    public IStreamEncoder CreateStreamEncoder(ChatRequest request, StreamFraming framing) =>
        LegacyCompletions ? CompletionsAdapter.CreateStreamEncoder(request) : Codec.CreateStreamEncoder(request, framing);

    /// <summary>The dialect of a path, for errors raised before an endpoint runs (authentication, routing).</summary>
    public static ClientDialect ForPath(string path)
    {
        if (path.StartsWith("/v1/messages", StringComparison.OrdinalIgnoreCase) || path.Contains("/anthropic/", StringComparison.OrdinalIgnoreCase)) return Anthropic;
        if (path.Contains("/v1beta", StringComparison.OrdinalIgnoreCase)) return Gemini;
        if (path.Contains("/responses", StringComparison.OrdinalIgnoreCase)) return OpenAIResponses;
        return OpenAIChat;
    }
}
