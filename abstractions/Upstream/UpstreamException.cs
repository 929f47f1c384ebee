namespace PluginProxy.Abstractions.Upstream;

/// <summary>How a failed upstream attempt should affect the credential that made it.</summary>
public enum FailureKind
{
    /// <summary>429 / quota: cool this (credential, model) until the reset time.</summary>
    Quota,
    /// <summary>401: tokens revoked or expired; refresh, then cool down.</summary>
    AuthRevoked,
    /// <summary>402/403: no entitlement.</summary>
    Forbidden,
    /// <summary>404: this credential does not serve the model.</summary>
    ModelNotFound,
    /// <summary>408/5xx/connection failure: try elsewhere, short cooldown.</summary>
    Transient,
    /// <summary>400-class problem with the request itself; another credential would fail the same way.</summary>
    ClientError,
}

/// <summary>
/// An upstream attempt failed. <see cref="Exception.Message"/> and <see cref="Body"/> reach clients and logs,
/// so they must never contain tokens or keys.
/// </summary>
public sealed class UpstreamException : Exception
{
    public UpstreamException(FailureKind kind, int statusCode, string message, string? body = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        StatusCode = statusCode;
        Body = body;
        RetryAfter = retryAfter;
    }

    public FailureKind Kind { get; }

    /// <summary>HTTP status from the upstream; 502 for connection failures.</summary>
    public int StatusCode { get; }

    /// <summary>The upstream's error body, when it had one (relayed to the client if it is JSON).</summary>
    public string? Body { get; }

    /// <summary>When the upstream said the quota frees up.</summary>
    public TimeSpan? RetryAfter { get; }
}
