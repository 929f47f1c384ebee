using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Host.Scheduling;

/// <summary>
/// How long a failure keeps a (credential, model) out of rotation. 429: the upstream's reset time, else 1 s doubling
/// per consecutive 429 up to a cap; 401: the whole credential for 30 min (and a token refresh); 402/403: 30 min;
/// 404: 12 h; 408/5xx/connection failure: 1 min; other 4xx: none. What is cooled follows the failure's scope
/// (<see cref="FailureScope"/>): the model on the credential, the whole credential, or nothing for request-scoped failures. <c>disable-cooling</c> drops the backoff and the
/// transient minute but keeps explicit reset times and the auth/entitlement/not-found cooldowns.
/// </summary>
internal static class CooldownPolicy
{
    public static readonly TimeSpan AuthFailure = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan Forbidden = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan NotFound = TimeSpan.FromHours(12);
    public static readonly TimeSpan Transient = TimeSpan.FromMinutes(1);

    /// <summary><c>transient-error-cooldown-seconds</c>: 0 keeps the minute, -1 turns it off (null), else that many seconds.</summary>
    public static TimeSpan? TransientFor(int seconds) => seconds switch
    {
        0 => Transient,
        < 0 => null,
        _ => TimeSpan.FromSeconds(seconds),
    };

    /// <summary>
    /// A cooldown an operator's rule asked for (<c>stop-and-cooldown</c>, <c>continue-and-cooldown</c>): the built-in one
    /// when the failure has one, else the transient cooldown (a minute when that is off) on the model.
    /// </summary>
    public static (Cooldown Cooldown, bool WholeCredential) Forced(UpstreamException failure, Cooldown? previous, bool disableCooling, TimeSpan maxBackoff, TimeSpan? transient, DateTimeOffset now) =>
        For(failure, previous, disableCooling, maxBackoff, now, transient) is { } builtIn
            ? builtIn
            : (new Cooldown(now + (transient ?? Transient), failure.Kind, failure.StatusCode, 0), failure.Scope == FailureScope.Credential);

    /// <summary>The cooldown and its scope (a model, or <see cref="CooldownBook.AnyModel"/>), or null for none.</summary>
    public static (Cooldown Cooldown, bool WholeCredential)? For(UpstreamException failure, Cooldown? previous, bool disableCooling, TimeSpan maxBackoff, DateTimeOffset now) =>
        For(failure, previous, disableCooling, maxBackoff, now, Transient);

    /// <param name="transient">How long transient failures cool (<see cref="TransientFor"/>); null: not at all.</param>
    public static (Cooldown Cooldown, bool WholeCredential)? For(UpstreamException failure, Cooldown? previous, bool disableCooling, TimeSpan maxBackoff, DateTimeOffset now,
        TimeSpan? transient)
    {
        if (failure.Scope == FailureScope.Request) return null;
        var whole = failure.Scope == FailureScope.Credential;
        switch (failure.Kind)
        {
            case FailureKind.Quota:
                if (failure.RetryAfter is { } resetIn)
                    return (new Cooldown(now + (resetIn > FailureClassifier.MaxRetryAfter ? FailureClassifier.MaxRetryAfter : resetIn), failure.Kind, failure.StatusCode, 0), whole);
                if (disableCooling) return null;
                var level = previous is { Kind: FailureKind.Quota } ? previous.BackoffLevel + 1 : 0;
                var backoff = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(level, 30)));
                return (new Cooldown(now + (backoff < maxBackoff ? backoff : maxBackoff), failure.Kind, failure.StatusCode, level), whole);
            case FailureKind.AuthRevoked:
                return (new Cooldown(now + AuthFailure, failure.Kind, failure.StatusCode, 0), whole);
            case FailureKind.Forbidden:
                return (new Cooldown(now + Forbidden, failure.Kind, failure.StatusCode, 0), whole);
            case FailureKind.ModelNotFound:
                return (new Cooldown(now + NotFound, failure.Kind, failure.StatusCode, 0), whole);
            case FailureKind.Transient when !disableCooling && transient is { } t:
                return (new Cooldown(now + t, failure.Kind, failure.StatusCode, 0), whole);
            default:
                return null;
        }
    }
}
