namespace PluginProxy.Abstractions.Upstream;

/// <summary>What went wrong with an upstream attempt.</summary>
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
    /// <summary>408/5xx/connection failure or timeout: retry, try elsewhere, short cooldown.</summary>
    Transient,
    /// <summary>400-class problem with the request itself; another credential would fail the same way.</summary>
    ClientError,
}

/// <summary>What a failure says something about, and so what the scheduler cools down.</summary>
public enum FailureScope
{
    /// <summary>Only this request (a bad request, a paid-feature 429, a count-tokens failure): nothing is cooled.</summary>
    Request,
    /// <summary>The model on this credential (a per-model quota, a model the account cannot use, a 5xx).</summary>
    Model,
    /// <summary>The whole credential (revoked tokens, an account-level 403, a quota window shared by every model).</summary>
    Credential,
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

    /// <summary>HTTP status from the upstream; 502 for connection failures, 504 for timeouts.</summary>
    public int StatusCode { get; }

    /// <summary>The upstream's error body, when it had one (relayed to the client if it is JSON).</summary>
    public string? Body { get; }

    /// <summary>When the upstream said the quota frees up.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>What to cool down; by default <see cref="DefaultScope"/> of <see cref="Kind"/>. Plugins set it for provider quirks.</summary>
    public FailureScope Scope
    {
        get => _scope ?? DefaultScope(Kind);
        init => _scope = value;
    }

    private readonly FailureScope? _scope;

    /// <summary>The conventional meaning of an HTTP status.</summary>
    public static FailureKind KindFor(int status) => status switch
    {
        429 => FailureKind.Quota,
        401 => FailureKind.AuthRevoked,
        402 or 403 => FailureKind.Forbidden,
        404 => FailureKind.ModelNotFound,
        408 or >= 500 => FailureKind.Transient,
        _ => FailureKind.ClientError,
    };

    /// <summary>Credential-wide for revoked and forbidden, nothing for client errors, that model otherwise.</summary>
    public static FailureScope DefaultScope(FailureKind kind) => kind switch
    {
        FailureKind.AuthRevoked or FailureKind.Forbidden => FailureScope.Credential,
        FailureKind.ClientError => FailureScope.Request,
        _ => FailureScope.Model,
    };
}
