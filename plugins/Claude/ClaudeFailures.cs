using System.Globalization;
using System.Net.Http.Headers;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Plugins.Claude;

/// <summary>
/// Anthropic's failures with the scope they have: the subscription's unified 5-hour and 7-day windows are the whole
/// account's, a per-model weekly window or a rate limit is that model's, a paid-feature refusal (fast mode without
/// usage credits) is only that request's; 529 (overloaded) is transient.
/// </summary>
internal static class ClaudeFailures
{
    public const string UnifiedPrefix = "anthropic-ratelimit-unified-";

    public static UpstreamException Classify(int status, HttpResponseHeaders headers, string body, TimeProvider clock)
    {
        var basic = FailureClassifier.FromResponse(status, headers, body, clock);
        var message = basic.Message;
        var text = body ?? "";
        switch (status)
        {
            case 429:
            {
                if (Contains(text, "usage credits are required") || Contains(text, "fast mode"))
                    return new UpstreamException(FailureKind.Quota, status, message, body) { Scope = FailureScope.Request };
                var unified = Header(headers, UnifiedPrefix + "status");
                var claim = Header(headers, UnifiedPrefix + "representative-claim") ?? "";
                if (unified is not null || claim.Length > 0)
                {
                    var wait = UnifiedReset(headers, clock) ?? basic.RetryAfter;
                    // A model-specific weekly window (seven_day_opus, seven_day_sonnet) leaves the account's other models usable.
                    var perModel = claim.Contains("opus", StringComparison.OrdinalIgnoreCase) || claim.Contains("sonnet", StringComparison.OrdinalIgnoreCase);
                    return new UpstreamException(FailureKind.Quota, status, message, body, wait) { Scope = perModel ? FailureScope.Model : FailureScope.Credential };
                }
                return new UpstreamException(FailureKind.Quota, status, message, body, basic.RetryAfter ?? RateLimitReset(headers, clock)) { Scope = FailureScope.Model };
            }
            case 401:
            {
                var expired = Contains(text, "expired");
                var why = expired ? "the OAuth token expired" : "the credential was rejected (revoked or invalid)";
                return new UpstreamException(FailureKind.AuthRevoked, status, $"{why}: {message}", body) { Scope = FailureScope.Credential };
            }
            case 403:
            {
                // "does not have access to model X" is about one model; anything else (a disabled org, a banned account) about the account.
                var model = Contains(text, "model");
                return new UpstreamException(FailureKind.Forbidden, status, message, body) { Scope = model ? FailureScope.Model : FailureScope.Credential };
            }
            case 400 when Contains(text, "credit balance"):
                // An unfunded key, not a bad request: take this account out and let another serve.
                return new UpstreamException(FailureKind.Forbidden, status, message, body) { Scope = FailureScope.Credential };
            case 529:
                return new UpstreamException(FailureKind.Transient, status, message, body, basic.RetryAfter) { Scope = FailureScope.Model };
            default:
                return basic;
        }
    }

    /// <summary>The unified window's reset: <c>anthropic-ratelimit-unified-reset</c> (Unix seconds), else the latest rejected window's.</summary>
    internal static TimeSpan? UnifiedReset(HttpResponseHeaders headers, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        if (UnixSeconds(Header(headers, UnifiedPrefix + "reset")) is { } reset) return Clamp(reset - now);
        DateTimeOffset? latest = null;
        foreach (var window in new[] { "5h", "7d", "7d_opus", "7d_sonnet" })
            if (Header(headers, $"{UnifiedPrefix}{window}-status") == "rejected" && UnixSeconds(Header(headers, $"{UnifiedPrefix}{window}-reset")) is { } at)
                latest = latest is null || at > latest ? at : latest;
        return latest is { } l ? Clamp(l - now) : null;
    }

    /// <summary>API-key rate limits: the earliest of the RFC 3339 <c>anthropic-ratelimit-*-reset</c> headers.</summary>
    internal static TimeSpan? RateLimitReset(HttpResponseHeaders headers, TimeProvider clock)
    {
        DateTimeOffset? earliest = null;
        foreach (var kind in new[] { "requests", "tokens", "input-tokens", "output-tokens" })
            if (DateTimeOffset.TryParse(Header(headers, $"anthropic-ratelimit-{kind}-reset"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                earliest = earliest is null || at < earliest ? at : earliest;
        return earliest is { } e ? Clamp(e - clock.GetUtcNow()) : null;
    }

    private static DateTimeOffset? UnixSeconds(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0 ? DateTimeOffset.FromUnixTimeSeconds(Math.Min(s, 253402300799)) : null;

    private static TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > FailureClassifier.MaxRetryAfter ? FailureClassifier.MaxRetryAfter : wait;

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? string.Join(",", values).Trim() : null;

    private static bool Contains(string text, string what) => text.Contains(what, StringComparison.OrdinalIgnoreCase);
}
