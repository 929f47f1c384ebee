using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Host.Proxying;

internal enum AttemptOutcome
{
    /// <summary>The client got its answer (or stream) in full.</summary>
    Served,
    /// <summary>The client already got a final answer that is not the upstream's (a 400 for a body the codec cannot read, a 501).</summary>
    Answered,
    /// <summary>The upstream failed before the client saw a byte: another credential may serve.</summary>
    FailedBeforeStart,
    /// <summary>The upstream failed after the stream started; the client got the dialect's error event.</summary>
    FailedAfterStart,
    /// <summary>The client went away; nothing more to do and nothing to blame on the credential.</summary>
    ClientGone,
    /// <summary>No loaded plugin owns the credential's type (it was removed); the next candidate is tried.</summary>
    NoProvider,
}

/// <summary>
/// What one attempt did, as a value (YARP's <c>ForwarderError</c> style) instead of flags set inside exception filters.
/// <see cref="Failure"/> is set for the two failure outcomes; <see cref="CoolDown"/> says whether it reflects on the
/// credential (a failed token count or a bug in a plugin does not).
/// </summary>
internal readonly record struct AttemptResult(AttemptOutcome Outcome, UpstreamException? Failure = null, Dialect? FailureDialect = null, bool CoolDown = true)
{
    public static readonly AttemptResult Served = new(AttemptOutcome.Served);
    public static readonly AttemptResult Answered = new(AttemptOutcome.Answered);
    public static readonly AttemptResult ClientGone = new(AttemptOutcome.ClientGone);
    public static readonly AttemptResult NoProvider = new(AttemptOutcome.NoProvider);
}
