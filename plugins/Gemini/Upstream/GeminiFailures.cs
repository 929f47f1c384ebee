using System.Net.Http.Headers;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Plugins.Gemini.Upstream;

/// <summary>
/// Google's failures on top of the SDK's classification (which already reads <c>RetryInfo.retryDelay</c>,
/// <c>quotaResetDelay</c> and "reset after Ns" for 429s, cooling that model on that account until then). Account-level
/// refusals are made credential-wide with a message that says what to do, since no retry on that account can help.
/// </summary>
internal static class GeminiFailures
{
    public static UpstreamException Classify(int status, HttpResponseHeaders? headers, string body, TimeProvider clock)
    {
        var failure = FailureClassifier.FromResponse(status, headers, body, clock);
        if (status is 400 or 403 && Contains(body, "UNSUPPORTED_CLIENT") || status == 403 && (Contains(body, "INELIGIBLE") || Contains(body, "ineligible")))
        {
            return new UpstreamException(FailureKind.Forbidden, status,
                "Google refused this Gemini CLI account: its tier is not eligible for Gemini CLI (individual, free and Google One accounts " +
                "lost access on 2026-06-18). Use a Gemini Code Assist Standard/Enterprise account or a Gemini API key.",
                failure.Body) { Scope = FailureScope.Credential };
        }
        if (status == 403 && Contains(body, "VALIDATION_REQUIRED"))
        {
            return new UpstreamException(FailureKind.Forbidden, status,
                "Google requires this account to be verified before it can be used (VALIDATION_REQUIRED): sign in to the Gemini CLI or " +
                "Google Cloud console with it once and complete the verification, then clear its cooldown.",
                failure.Body) { Scope = FailureScope.Credential };
        }
        if (status == 400 && (Contains(body, "API_KEY_INVALID") || Contains(body, "API_KEY_EXPIRED")))
        {
            // A bad key, not a bad request: take this key out and let another account serve.
            return new UpstreamException(FailureKind.Forbidden, status, "Google rejected this API key (invalid or expired); replace it in gemini-api-key. " + failure.Message,
                failure.Body) { Scope = FailureScope.Credential };
        }
        if (status == 403 && Contains(body, "SERVICE_DISABLED"))
        {
            return new UpstreamException(FailureKind.Forbidden, status,
                "The Google Cloud project of this account has the required API disabled (SERVICE_DISABLED); enable it or run login again. " + failure.Message,
                failure.Body) { Scope = FailureScope.Credential };
        }
        return failure;
    }

    private static bool Contains(string body, string text) => body.Contains(text, StringComparison.Ordinal);
}
