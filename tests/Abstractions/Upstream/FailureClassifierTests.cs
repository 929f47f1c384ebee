using System.Net;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Tests.Abstractions.Upstream;

public sealed class FailureClassifierTests
{
    [Theory]
    [InlineData(429, FailureKind.Quota)]
    [InlineData(401, FailureKind.AuthRevoked)]
    [InlineData(402, FailureKind.Forbidden)]
    [InlineData(403, FailureKind.Forbidden)]
    [InlineData(404, FailureKind.ModelNotFound)]
    [InlineData(408, FailureKind.Transient)]
    [InlineData(500, FailureKind.Transient)]
    [InlineData(529, FailureKind.Transient)]
    [InlineData(400, FailureKind.ClientError)]
    [InlineData(422, FailureKind.ClientError)]
    public void Status_to_kind(int status, FailureKind kind) => Assert.Equal(kind, FailureClassifier.KindFor(status));

    [Theory]
    [InlineData("""{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.847655010s"}]}}""", 0.847655010)]
    [InlineData("""[{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","metadata":{"quotaResetDelay":"1h2m3.5s"}}]}}]""", 3723.5)]
    [InlineData("""{"error":{"message":"Your quota will reset after 39s."}}""", 39)]
    [InlineData("plain text: try again after 12 s", 12)]
    [InlineData("""{"error":{"message":"retry after 99999999999999s"}}""", 30 * 24 * 3600)]
    [InlineData("""{"error":{"details":[{"@type":"x.RetryInfo","retryDelay":"999999999h"}]}}""", 30 * 24 * 3600)]
    public void Reset_times_from_bodies_are_read_and_capped(string body, double seconds)
    {
        var wait = FailureClassifier.RetryAfter(null, body, TimeProvider.System);
        Assert.NotNull(wait);
        Assert.Equal(seconds, wait.Value.TotalSeconds, 3);
    }

    [Fact]
    public void The_retry_after_header_wins()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(30));
        var failure = FailureClassifier.FromResponse(429, response.Headers, """{"error":{"message":"reset after 5s"}}""");
        Assert.Equal(FailureKind.Quota, failure.Kind);
        Assert.Equal(TimeSpan.FromSeconds(30), failure.RetryAfter);
        Assert.Equal("reset after 5s", failure.Message);
    }
}
