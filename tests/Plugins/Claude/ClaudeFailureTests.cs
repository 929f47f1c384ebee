using System.Net;
using System.Text;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary>Anthropic failures and what they cool: the request, the model on the account, or the whole account.</summary>
public sealed class ClaudeFailureTests
{
    private static readonly ManualClock Clock = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));

    private static async Task<UpstreamException> FailAsync(int status, string body, params (string Name, string Value)[] headers)
    {
        var handler = new CapturingHandler(_ =>
        {
            var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in headers) response.Headers.TryAddWithoutValidation(name, value);
            return response;
        });
        var call = new UpstreamCall
        {
            Credential = ClaudeCalls.OAuthFile(), UpstreamModel = "claude-opus-4-6", Http = new HttpClient(handler), Log = NullPluginLog.Instance, Clock = Clock,
        };
        var request = new NativeRequest { Body = """{"model":"claude-opus-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"""u8.ToArray() };
        return await Assert.ThrowsAsync<UpstreamException>(() => ClaudePluginUnderTest.Executor.SendNativeAsync(call, request, default));
    }

    private static string Error(string type, string message) =>
        new System.Text.Json.Nodes.JsonObject { ["type"] = "error", ["error"] = new System.Text.Json.Nodes.JsonObject { ["type"] = type, ["message"] = message } }.ToJsonString();

    [Fact]
    public async Task The_unified_five_hour_window_cools_the_whole_account_until_its_reset()
    {
        var reset = Clock.GetUtcNow().AddHours(2).ToUnixTimeSeconds();
        var failure = await FailAsync(429, Error("rate_limit_error", "This request would exceed your account's rate limit."),
            ("anthropic-ratelimit-unified-status", "rejected"), ("anthropic-ratelimit-unified-representative-claim", "five_hour"),
            ("anthropic-ratelimit-unified-reset", reset.ToString()));

        Assert.Equal(FailureKind.Quota, failure.Kind);
        Assert.Equal(FailureScope.Credential, failure.Scope);
        Assert.Equal(TimeSpan.FromHours(2), failure.RetryAfter);
    }

    [Fact]
    public async Task A_per_model_weekly_window_cools_only_that_model()
    {
        var failure = await FailAsync(429, Error("rate_limit_error", "Opus weekly limit reached"),
            ("anthropic-ratelimit-unified-status", "rejected"), ("anthropic-ratelimit-unified-representative-claim", "seven_day_opus"),
            ("anthropic-ratelimit-unified-7d_opus-status", "rejected"), ("anthropic-ratelimit-unified-7d_opus-reset", Clock.GetUtcNow().AddDays(3).ToUnixTimeSeconds().ToString()));

        Assert.Equal(FailureScope.Model, failure.Scope);
        Assert.Equal(TimeSpan.FromDays(3), failure.RetryAfter);
    }

    [Fact]
    public async Task An_unfunded_key_is_taken_out_not_treated_as_a_bad_request()
    {
        var failure = await FailAsync(400, Error("invalid_request_error", "Your credit balance is too low to access the Anthropic API."));

        Assert.Equal(FailureKind.Forbidden, failure.Kind);
        Assert.Equal(FailureScope.Credential, failure.Scope);
    }

    [Fact]
    public async Task A_paid_feature_refusal_is_about_the_request_only()
    {
        var failure = await FailAsync(429, Error("rate_limit_error", "Usage credits are required for fast mode."));

        Assert.Equal(FailureKind.Quota, failure.Kind);
        Assert.Equal(FailureScope.Request, failure.Scope);
    }

    [Fact]
    public async Task An_api_rate_limit_takes_retry_after_or_the_ratelimit_reset_headers()
    {
        var withRetryAfter = await FailAsync(429, Error("rate_limit_error", "Number of requests has exceeded your rate limit"), ("retry-after", "17"));
        Assert.Equal(TimeSpan.FromSeconds(17), withRetryAfter.RetryAfter);
        Assert.Equal(FailureScope.Model, withRetryAfter.Scope);

        var withReset = await FailAsync(429, Error("rate_limit_error", "Number of requests has exceeded your rate limit"),
            ("anthropic-ratelimit-tokens-reset", "2026-06-01T12:00:45Z"), ("anthropic-ratelimit-requests-reset", "2026-06-01T12:01:30Z"));
        Assert.Equal(TimeSpan.FromSeconds(45), withReset.RetryAfter);
    }

    [Fact]
    public async Task Expired_and_revoked_tokens_are_auth_failures_of_the_account_and_say_which()
    {
        var expired = await FailAsync(401, Error("authentication_error", "OAuth token has expired. Please obtain a new token or refresh your existing token."));
        var revoked = await FailAsync(401, Error("authentication_error", "OAuth token has been revoked."));

        Assert.Equal((FailureKind.AuthRevoked, FailureScope.Credential), (expired.Kind, expired.Scope));
        Assert.Contains("expired", expired.Message);
        Assert.Equal((FailureKind.AuthRevoked, FailureScope.Credential), (revoked.Kind, revoked.Scope));
        Assert.Contains("revoked or invalid", revoked.Message);
        Assert.DoesNotContain("sk-ant-oat01", expired.Message + revoked.Message);
    }

    [Fact]
    public async Task Forbidden_overloaded_and_server_errors()
    {
        var account = await FailAsync(403, Error("permission_error", "This organization has been disabled."));
        Assert.Equal((FailureKind.Forbidden, FailureScope.Credential), (account.Kind, account.Scope));
        var model = await FailAsync(403, Error("permission_error", "Your account does not have access to this model."));
        Assert.Equal(FailureScope.Model, model.Scope);
        var overloaded = await FailAsync(529, Error("overloaded_error", "Overloaded"));
        Assert.Equal((FailureKind.Transient, FailureScope.Model, 529), (overloaded.Kind, overloaded.Scope, overloaded.StatusCode));
        var server = await FailAsync(500, Error("api_error", "Internal server error"));
        Assert.Equal(FailureKind.Transient, server.Kind);
        var bad = await FailAsync(400, Error("invalid_request_error", "max_tokens: too large"));
        Assert.Equal((FailureKind.ClientError, FailureScope.Request), (bad.Kind, bad.Scope));
    }
}
