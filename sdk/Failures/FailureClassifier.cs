using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Sdk.Failures;

/// <summary>
/// Default mapping from an upstream HTTP failure to a <see cref="FailureKind"/> and a quota reset time. Plugins
/// with provider quirks call it and adjust the result.
/// </summary>
public static partial class FailureClassifier
{
    public static FailureKind KindFor(int status) => UpstreamException.KindFor(status);

    /// <summary>Builds the exception for a non-success response. <paramref name="body"/> is the upstream error body.</summary>
    public static UpstreamException FromResponse(int status, HttpResponseHeaders? headers, string? body, TimeProvider? clock = null)
    {
        var kind = KindFor(status);
        var retryAfter = kind == FailureKind.Quota ? RetryAfter(headers, body, clock ?? TimeProvider.System) : null;
        var message = ErrorMessage(body) ?? $"upstream returned HTTP {status}";
        return new UpstreamException(kind, status, message, string.IsNullOrWhiteSpace(body) ? null : body, retryAfter);
    }

    /// <summary>A connection-level failure (refused, reset, timeout) before any response.</summary>
    public static UpstreamException FromTransport(Exception exception) =>
        new(FailureKind.Transient, 502, "upstream connection failed: " + exception.GetType().Name, null, null, exception);

    /// <summary>
    /// Reset time from, in order: the <c>Retry-After</c> header, Google <c>RetryInfo.retryDelay</c>,
    /// <c>ErrorInfo.metadata.quotaResetDelay</c>, and "reset after Ns"-style text in the message.
    /// </summary>
    /// <summary>Reset times beyond this are treated as this: nonsense values must not overflow date arithmetic.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(30);

    public static TimeSpan? RetryAfter(HttpResponseHeaders? headers, string? body, TimeProvider clock) =>
        ParseRetryAfter(headers, body, clock) is { } wait ? (wait > MaxRetryAfter ? MaxRetryAfter : wait) : null;

    private static TimeSpan? ParseRetryAfter(HttpResponseHeaders? headers, string? body, TimeProvider clock)
    {
        if (headers?.RetryAfter is { } header)
        {
            if (header.Delta is { } delta) return delta;
            if (header.Date is { } date) return Max(date - clock.GetUtcNow());
        }
        if (string.IsNullOrEmpty(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var error = doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0
                ? doc.RootElement[0]
                : doc.RootElement;
            if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("error", out var inner)) error = inner;
            if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    if (detail.ValueKind != JsonValueKind.Object) continue;
                    var type = detail.TryGetProperty("@type", out var t) ? t.GetString() ?? "" : "";
                    if (type.EndsWith("RetryInfo", StringComparison.Ordinal) && detail.TryGetProperty("retryDelay", out var delay) && ParseDuration(delay.GetString()) is { } d)
                        return d;
                }
                foreach (var detail in details.EnumerateArray())
                {
                    if (detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object
                        && meta.TryGetProperty("quotaResetDelay", out var reset) && ParseDuration(reset.GetString()) is { } d)
                        return d;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the message text.
        }
        var match = AfterSeconds().Match(body);
        return match.Success ? Seconds(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)) : null;
    }

    /// <summary>Parses Go-style durations (<c>1h2m3.5s</c>, <c>0.84s</c>, <c>250ms</c>).</summary>
    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var total = TimeSpan.Zero;
        var any = false;
        foreach (Match m in DurationPart().Matches(text.Trim()))
        {
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var seconds = m.Groups[2].Value switch
            {
                "h" => value * 3600,
                "m" => value * 60,
                "ms" => value / 1e3,
                "us" or "µs" => value / 1e6,
                "ns" => value / 1e9,
                _ => value,
            };
            total = Seconds(Math.Min(total.TotalSeconds + seconds, MaxRetryAfter.TotalSeconds));
            any = true;
        }
        return any ? total : null;
    }

    /// <summary>Pulls a human message out of a JSON error body (<c>error.message</c>, <c>message</c>, or a string <c>error</c>).</summary>
    public static string? ErrorMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0 ? doc.RootElement[0] : doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String) return error.GetString();
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) return m.GetString();
            }
            if (root.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String) return msg.GetString();
        }
        catch (JsonException)
        {
        }
        return body.Length <= 300 ? body.Trim() : body[..300].Trim();
    }

    private static TimeSpan Max(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxRetryAfter.TotalSeconds));

    [GeneratedRegex(@"after\s+(\d+(?:\.\d+)?)\s*s", RegexOptions.IgnoreCase)]
    private static partial Regex AfterSeconds();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")]
    private static partial Regex DurationPart();
}
