namespace PluginProxy.Host.Proxying;

/// <summary>Per-request facts for the access log line: which provider and credential served it. Never secrets.</summary>
public sealed class RequestTrace(string requestId)
{
    public string RequestId { get; } = requestId;
    public string? Provider { get; set; }
    public string? Credential { get; set; }
}
