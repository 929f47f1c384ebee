namespace PluginProxy.Abstractions.Canonical;

/// <summary>The four public wire dialects PluginProxy speaks to clients and upstreams.</summary>
public enum Dialect
{
    /// <summary>OpenAI Chat Completions (<c>/v1/chat/completions</c>).</summary>
    OpenAIChat,
    /// <summary>OpenAI Responses (<c>/v1/responses</c>).</summary>
    OpenAIResponses,
    /// <summary>Anthropic Messages (<c>/v1/messages</c>).</summary>
    Anthropic,
    /// <summary>Gemini generateContent (<c>/v1beta/models/{model}:generateContent</c>).</summary>
    Gemini,
}
