using System.Globalization;
using System.Text.Json;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Plugins.Codex.Execution;

/// <summary>
/// Codex failures and what they say about the account: a used-up plan window (<c>usage_limit_reached</c>) stops the
/// whole account until its reset; a model the account's plan cannot use is that model only; 401/403 the account.
/// </summary>
internal static class CodexFailures
{
    public static UpstreamException FromResponse(int status, System.Net.Http.Headers.HttpResponseHeaders? headers, string body, TimeProvider clock)
    {
        var info = Read(body);
        if (info.Type is "usage_limit_reached" || info.Code is "usage_limit_reached")
            return UsageLimit(status, body, info, clock);
        var failure = FailureClassifier.FromResponse(status, headers, body, clock);
        var message = info.Message ?? failure.Message;
        if (status is 400 or 403 or 404 && PlanRefuses(message))
            return new UpstreamException(FailureKind.Forbidden, status, message, failure.Body) { Scope = FailureScope.Model };
        if (info.Message is not null && info.Message != failure.Message)
            return new UpstreamException(failure.Kind, status, info.Message, failure.Body, failure.RetryAfter);
        return failure;
    }

    /// <summary>An <c>error</c> event or failed response inside the stream.</summary>
    public static UpstreamException FromStreamError(JsonElement error, string raw, TimeProvider clock)
    {
        var info = Read(error);
        if (info.Type is "usage_limit_reached" || info.Code is "usage_limit_reached") return UsageLimit(429, raw, info, clock);
        if (info.Code is "insufficient_quota" || info.Type is "insufficient_quota")
            return new UpstreamException(FailureKind.Quota, 429, info.Message ?? "the Codex account has no quota left", raw) { Scope = FailureScope.Credential };
        // A prompt too long or a request the backend refuses fails the same way on every account.
        if (info.Code is "context_length_exceeded" || info.Type is "invalid_request_error")
            return new UpstreamException(FailureKind.ClientError, 400, info.Message ?? "the request was refused", raw) { Scope = FailureScope.Request };
        return new UpstreamException(FailureKind.Transient, 502, info.Message ?? "the Codex response failed", raw);
    }

    /// <summary>
    /// The shared Responses decoder reports every failed event as transient; this reads the raw event it carries and
    /// classifies it as Codex means it (usage limits, quota, refused requests). Null when the event says nothing more.
    /// </summary>
    public static UpstreamException? FromDecodedFailure(UpstreamException failure, TimeProvider clock)
    {
        if (failure.Body is not { Length: > 0 } raw) return null;
        try
        {
            using var doc = JsonDocument.Parse(raw);
            var root = doc.RootElement;
            var error = root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object && response.TryGetProperty("error", out var inner)
                ? inner
                : root.TryGetProperty("error", out var top) ? top : root;
            var classified = FromStreamError(error.Clone(), raw, clock);
            return classified.Kind == FailureKind.Transient ? null : classified;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static UpstreamException UsageLimit(int status, string body, ErrorInfo info, TimeProvider clock)
    {
        TimeSpan? wait = info.ResetsInSeconds is { } seconds
            ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, FailureClassifier.MaxRetryAfter.TotalSeconds))
            : info.ResetsAt is { } at
                ? Clamp(DateTimeOffset.FromUnixTimeSeconds(at) - clock.GetUtcNow())
                : null;
        var message = info.Message ?? "The Codex usage limit of this account has been reached.";
        return new UpstreamException(FailureKind.Quota, status == 200 ? 429 : status, message, body, wait) { Scope = FailureScope.Credential };
    }

    private static TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > FailureClassifier.MaxRetryAfter ? FailureClassifier.MaxRetryAfter : wait;

    /// <summary>"The 'gpt-5.3-codex' model is not supported when using Codex with a ChatGPT account", "your plan does not include ...".</summary>
    private static bool PlanRefuses(string message) =>
        message.Contains("ChatGPT account", StringComparison.OrdinalIgnoreCase) && message.Contains("not supported", StringComparison.OrdinalIgnoreCase)
        || message.Contains("plan", StringComparison.OrdinalIgnoreCase)
           && (message.Contains("not include", StringComparison.OrdinalIgnoreCase) || message.Contains("not available", StringComparison.OrdinalIgnoreCase)
               || message.Contains("upgrade", StringComparison.OrdinalIgnoreCase) || message.Contains("not supported", StringComparison.OrdinalIgnoreCase));

    private readonly record struct ErrorInfo(string? Type, string? Code, string? Message, double? ResetsInSeconds, long? ResetsAt);

    private static ErrorInfo Read(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return default;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return default;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object) return Read(error);
            // FastAPI-style {"detail": "..."} or {"detail": {"message": ...}}
            if (root.TryGetProperty("detail", out var detail))
                return detail.ValueKind == JsonValueKind.String ? new ErrorInfo(null, null, detail.GetString(), null, null) : Read(detail);
            return Read(root);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static ErrorInfo Read(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object) return default;
        return new ErrorInfo(Str(error, "type"), Str(error, "code"), Str(error, "message"), Number(error, "resets_in_seconds"), (long?)Number(error, "resets_at"));
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        return v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }
}
