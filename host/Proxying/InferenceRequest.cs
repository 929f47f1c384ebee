using PluginProxy.Formats;

namespace PluginProxy.Host.Proxying;

/// <summary>One inference request as an endpoint describes it.</summary>
/// <param name="Client">The client's dialect.</param>
/// <param name="Operation">Generate or count tokens.</param>
/// <param name="UrlModel">Model named in the URL (Gemini), else null.</param>
/// <param name="UrlStream">Streaming decided by the URL (Gemini), else null to read <c>stream</c> from the body.</param>
/// <param name="Framing">How a stream is framed (Gemini without <c>alt=sse</c> streams a JSON array).</param>
/// <param name="NativeOperation">Operation name for passthrough (Gemini method, Anthropic count_tokens), else null.</param>
/// <param name="PinnedProvider">Provider fixed by the route, else null.</param>
/// <param name="NonStreamKeepAlive">Whether <c>nonstream-keepalive-interval</c> applies (not to chat completions or counts, as in CLIProxyAPI).</param>
/// <param name="PassthroughOnly">The operation exists only in the client's dialect (Codex compaction): a provider that would need
/// translation cannot serve it.</param>
internal sealed record InferenceRequest(ClientDialect Client, Operation Operation, string? UrlModel = null, bool? UrlStream = null,
    StreamFraming Framing = StreamFraming.Sse, string? NativeOperation = null, string? PinnedProvider = null, bool NonStreamKeepAlive = false,
    bool PassthroughOnly = false);
