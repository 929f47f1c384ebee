namespace PluginProxy.Abstractions.Plugins;

/// <summary>A request body already in the provider's native dialect (passthrough).</summary>
public sealed class NativeRequest
{
    /// <summary>The client's body with only the model name rewritten; other bytes untouched.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    public bool Stream { get; init; }

    /// <summary>Dialect-specific operation: Gemini <c>generateContent</c>/<c>streamGenerateContent</c>/<c>countTokens</c>, Anthropic <c>count_tokens</c>; null for the default.</summary>
    public string? Operation { get; init; }

    /// <summary>Query string to forward (for example Gemini <c>alt=sse</c>), without the client's key.</summary>
    public string? Query { get; init; }
}

/// <summary>A successful upstream response, relayed as bytes. The host disposes it.</summary>
public sealed class NativeResponse(int statusCode, string? contentType, Stream body, IReadOnlyDictionary<string, string> headers, IDisposable? owner = null) : IAsyncDisposable
{
    public int StatusCode { get; } = statusCode;
    public string? ContentType { get; } = contentType;
    public Stream Body { get; } = body;
    /// <summary>Response headers worth relaying (not hop-by-hop, not content-length).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; } = headers;

    public async ValueTask DisposeAsync()
    {
        await Body.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
    }
}
