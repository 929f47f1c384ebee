namespace PluginProxy.Host.Proxying;

/// <summary>Per-request facts for the access log line: which provider and credential served it. Never secrets.</summary>
internal sealed class RequestTrace(string requestId)
{
    public string RequestId { get; } = requestId;
    public string? Provider { get; set; }
    public string? Credential { get; set; }
    /// <summary>Token usage of the answer, when the proxy saw it (translated answers and streams).</summary>
    public PluginProxy.Abstractions.Canonical.Usage? Usage { get; set; }
    /// <summary>The model the client asked for; set for inference requests that reached the failover loop (usage statistics).</summary>
    public string? Model { get; set; }
    /// <summary>The id of the credential of the last attempt (file name or config hash; never a secret).</summary>
    public string? CredentialId { get; set; }
    /// <summary>The answer started and then failed (a mid-stream error event): a 200 that is still a failure.</summary>
    public bool FailedAfterStart { get; set; }

    /// <summary>Notes what an attempt's result means for the trace (called by the failover loop).</summary>
    public static void Note(ProxyRequest request, AttemptResult result)
    {
        if (result.Outcome == AttemptOutcome.FailedAfterStart && request.Http.Features.Get<RequestTrace>() is { } trace) trace.FailedAfterStart = true;
    }
}
