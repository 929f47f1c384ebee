using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Sdk.OAuth;

public sealed class DeviceCodeFlowTests
{
    private static readonly HttpClient Http = new();

    private static FakeReply DeviceCode(int interval = 5, int expiresIn = 600) => FakeReply.Json(new JsonObject
    {
        ["device_code"] = "dev-code-secret", ["user_code"] = "ABCD-EFGH", ["verification_uri"] = "https://device.example/activate",
        ["verification_uri_complete"] = "https://device.example/activate?user_code=ABCD-EFGH", ["expires_in"] = expiresIn, ["interval"] = interval,
    });

    private static DeviceCodeRequest Request(FakeTokenEndpoint fake, bool pkce = false) => new()
    {
        DeviceAuthorizationEndpoint = fake.Url("/device/code"),
        TokenEndpoint = fake.Url("/token"),
        ClientId = "device-client",
        Scope = "openid model.completion",
        UsePkce = pkce,
        DisplayName = "Qwen",
    };

    private static (LoginContext Context, AutoAdvanceClock Clock, StringWriter Output, List<string> Opened) Context(bool noBrowser = false)
    {
        var clock = new AutoAdvanceClock();
        var output = new StringWriter();
        var opened = new List<string>();
        return (new LoginContext { Http = Http, Output = output, Clock = clock, NoBrowser = noBrowser, OpenBrowser = u => { opened.Add(u); return true; } },
            clock, output, opened);
    }

    [Fact]
    public async Task Pending_twice_then_slow_down_then_success()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            DeviceCode(),
            FakeTokenEndpoint.OAuthError(400, "authorization_pending"),
            FakeTokenEndpoint.OAuthError(400, "authorization_pending"),
            FakeTokenEndpoint.OAuthError(400, "slow_down"),
            FakeTokenEndpoint.Tokens("device-at"));
        var (context, clock, output, opened) = Context();

        var tokens = await DeviceCodeFlow.RunAsync(context, Request(fake, pkce: true), CancellationToken.None);

        Assert.Equal("device-at", tokens.AccessToken);
        // Three polls at the provider's 5 s, the one after slow_down at 10 s; no real time passed.
        Assert.Equal([5, 5, 5, 10], clock.Waits.Select(w => w.TotalSeconds));
        Assert.Equal(["https://device.example/activate?user_code=ABCD-EFGH"], opened);
        var text = output.ToString();
        Assert.Contains("open https://device.example/activate and enter the code ABCD-EFGH", text);
        Assert.Contains("4:55 left", text); // LoginContext.Timeout (5 min) is sooner than expires_in; progress at most every 30 s
        Assert.DoesNotContain("dev-code-secret", text);
        Assert.DoesNotContain("device-at", text);

        var device = FakeTokenEndpoint.Form(fake.Requests[0]);
        Assert.Equal("device-client", device["client_id"]);
        Assert.Equal("openid model.completion", device["scope"]);
        Assert.Equal("S256", device["code_challenge_method"]);
        var poll = FakeTokenEndpoint.Form(fake.Requests[^1]);
        Assert.Equal(DeviceCodeFlow.GrantType, poll["grant_type"]);
        Assert.Equal("dev-code-secret", poll["device_code"]);
        Assert.Equal("device-client", poll["client_id"]);
        Assert.Equal(device["code_challenge"], Pkce.ChallengeFor(poll["code_verifier"]));
        Assert.Equal(5, fake.Requests.Count);
    }

    [Theory]
    [InlineData("expired_token", "expired before it was approved")]
    [InlineData("access_denied", "denied in the browser")]
    [InlineData("unsupported_grant_type", "device token poll failed: HTTP 400: unsupported_grant_type")]
    public async Task Terminal_errors_fail_clearly(string error, string expected)
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            DeviceCode(), FakeTokenEndpoint.OAuthError(400, "authorization_pending"), FakeTokenEndpoint.OAuthError(400, error));
        var (context, _, _, _) = Context();

        var e = await Assert.ThrowsAsync<OAuthException>(() => DeviceCodeFlow.RunAsync(context, Request(fake), CancellationToken.None));

        Assert.Contains(expected, e.Message);
        Assert.Equal(error, e.Error);
        Assert.Equal(3, fake.Requests.Count);
    }

    [Fact]
    public async Task Polling_stops_when_the_code_expires()
    {
        // expires_in 12 s at a 5 s interval: two polls fit, the third would be late.
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            DeviceCode(expiresIn: 12), FakeTokenEndpoint.OAuthError(400, "authorization_pending"), FakeTokenEndpoint.OAuthError(400, "authorization_pending"));
        var (context, _, _, opened) = Context(noBrowser: true);

        var e = await Assert.ThrowsAsync<OAuthException>(() => DeviceCodeFlow.RunAsync(context, Request(fake), CancellationToken.None));

        Assert.Contains("was not approved within 12 seconds", e.Message);
        Assert.Equal(3, fake.Requests.Count);
        Assert.Empty(opened);
    }

    [Fact]
    public async Task A_failed_device_request_says_why()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.OAuthError(400, "invalid_client", "unknown client"));
        var (context, _, _, _) = Context();
        var e = await Assert.ThrowsAsync<OAuthException>(() => DeviceCodeFlow.RunAsync(context, Request(fake), CancellationToken.None));
        Assert.Equal("device code request failed: HTTP 400: invalid_client: unknown client", e.Message);
    }
}
