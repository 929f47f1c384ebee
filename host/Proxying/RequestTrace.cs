namespace PluginProxy.Host.Proxying;

/// <summary>Per-request facts for the access log line: which provider and credential served it. Never secrets.</summary>
internal sealed class RequestTrace(string requestId)
{
    public string RequestId { get; } = requestId;
    public string? Provider { get; set; }
    public string? Credential { get; set; }
    /// <summary>Token usage of the answer, when the proxy saw it (translated answers and streams).</summary>
    public PluginProxy.Abstractions.Canonical.Usage? Usage { get; set; }
}
