using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Credentials;

public sealed class TokenLifecycleTests
{
    private static Task<FakeUpstreamHost> TokenEndpointAsync(Func<HttpContext, Task>? before = null) =>
        FakeUpstreamHost.StartAsync(async (http, _) =>
        {
            if (before is not null) await before(http);
            if (http.RequestAborted.IsCancellationRequested || http.Response.HasStarted) return;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"access_token":"fresh-a","expires_in":3600}""");
        });

    private static Task EventuallyAsync(Func<bool> condition, string what) => TestServer.EventuallyAsync(() => Task.FromResult(condition()), what);

    [Fact]
    public async Task A_credential_expiring_inside_the_lead_is_refreshed_without_any_request()
    {
        var clock = new TimerClock();
        var start = clock.GetUtcNow();
        var expires = start.AddMinutes(20);
        await using var tokens = await TokenEndpointAsync();
        await using var h = await LifecycleHarness.StartAsync(clock, tokens.Root + "token", [("a.json", LifecyclePlugin.Credential("alice", "old-a", expires))]);

        Assert.Equal(expires, h.Credential("a.json").ExpiresAt);
        Assert.Equal(expires - LifecyclePlugin.Lead, h.Lifecycle.NextDue()["a.json"]);
        Assert.Equal(expires - LifecyclePlugin.Lead, h.Health.Get("a.json")!.NextRefreshDue);

        clock.Advance(TimeSpan.FromMinutes(14)); // a minute before the lead starts: nothing is due
        Assert.Equal(expires - LifecyclePlugin.Lead, h.Lifecycle.NextDue()["a.json"]);
        Assert.Empty(tokens.Requests);

        clock.Advance(TimeSpan.FromMinutes(1));
        var refreshedAt = start.AddMinutes(15);
        await EventuallyAsync(() => h.Health.Get("a.json")?.LastRefreshed == refreshedAt, "the background refresh is saved");

        var request = Assert.Single(tokens.Requests);
        Assert.Equal("/token", request.Path); // from providers.lifecycled.token-url: the refresh got the plugin's settings
        Assert.Contains("refresh_token=refresh-old-a", request.BodyText);
        var record = h.Credential("a.json");
        Assert.Equal("fresh-a", record.GetString("access_token"));
        Assert.Equal(refreshedAt.AddHours(1), record.ExpiresAt); // written from the refresh context's clock
        await EventuallyAsync(() => h.Lifecycle.NextDue()["a.json"] == refreshedAt.AddHours(1) - LifecyclePlugin.Lead, "the next refresh is planned from the new expiry");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(h.AuthDir, "a.json")));
        Assert.DoesNotContain("fresh-a", h.Logs);
        Assert.DoesNotContain("old-a", h.Logs);
    }

    [Fact]
    public async Task The_plugins_expiry_wins_over_the_files()
    {
        var clock = new TimerClock();
        var start = clock.GetUtcNow();
        await using var tokens = await TokenEndpointAsync();
        var pluginExpiry = start.AddHours(1);
        await using var h = await LifecycleHarness.StartAsync(clock, tokens.Root + "token",
            [("a.json", LifecyclePlugin.Credential("alice", "tok-a", start.AddHours(10), $",\"plugin_expiry\":\"{pluginExpiry:O}\""))]);

        Assert.Equal(start.AddHours(10), h.Credential("a.json").ExpiresAt);
        Assert.Equal(pluginExpiry - LifecyclePlugin.Lead, h.Lifecycle.NextDue()["a.json"]);
        Assert.Equal(pluginExpiry, h.Health.Get("a.json")!.ExpiresAt);
    }

    [Fact]
    public async Task Twenty_concurrent_refreshes_during_a_refresh_make_one_token_endpoint_call()
    {
        var clock = new TimerClock();
        var release = new TaskCompletionSource();
        await using var tokens = await TokenEndpointAsync(_ => release.Task);
        // Inside the lead, so the background refresher wants it too.
        await using var h = await LifecycleHarness.StartAsync(clock, tokens.Root + "token", [("a.json", LifecyclePlugin.Credential("alice", "old-a", clock.GetUtcNow().AddMinutes(2)))]);
        var record = h.Credential("a.json");
        var client = h.Http.For(null, null);

        // As twenty requests that got a 401 would ask (ProxyHandler's call), plus the background refresher's tick.
        var refreshes = Enumerable.Range(0, 20).Select(_ => Task.Run(() => h.Refresher.RefreshAsync(record, client))).ToList();
        await EventuallyAsync(() => tokens.Requests.Count == 1, "the refresh reaches the token endpoint");
        clock.Advance(TimeSpan.Zero);
        release.SetResult();

        Assert.All(await Task.WhenAll(refreshes), Assert.True);
        await EventuallyAsync(() => h.Lifecycle.NextDue()["a.json"] > clock.GetUtcNow(), "the background refresher planned the next one");
        Assert.Single(tokens.Requests);
        Assert.Equal("fresh-a", h.Credential("a.json").GetString("access_token"));

        // Asked again with the replaced tokens (a late 401): skipped, so a rotated refresh token is not spent twice.
        Assert.Equal(RefreshOutcome.Skipped, await h.Refresher.RefreshWithOutcomeAsync(record));
        Assert.Single(tokens.Requests);
    }

    [Fact]
    public async Task A_transport_error_is_retried_with_backoff_and_then_succeeds()
    {
        var clock = new TimerClock();
        var failing = true;
        await using var tokens = await TokenEndpointAsync(http =>
        {
            if (Volatile.Read(ref failing)) http.Abort(); // the connection drops before any answer
            return Task.CompletedTask;
        });
        await using var h = await LifecycleHarness.StartAsync(clock, tokens.Root + "token", [("a.json", LifecyclePlugin.Credential("alice", "old-a", clock.GetUtcNow().AddMinutes(1)))]);
        var t0 = clock.GetUtcNow();

        clock.Advance(TimeSpan.Zero); // due since start (expiry inside the lead)
        await EventuallyAsync(() => h.Lifecycle.NextDue()["a.json"] == t0 + TimeSpan.FromSeconds(30), "the first retry is planned 30 s on");
        var status = h.Health.Get("a.json")!;
        Assert.Equal(1, status.ConsecutiveFailures);
        Assert.StartsWith("HttpRequestException", status.LastRefreshError);
        var afterFirst = tokens.Requests.Count;

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(t0 + TimeSpan.FromSeconds(30), h.Lifecycle.NextDue()["a.json"]);
        Assert.Equal(afterFirst, tokens.Requests.Count);

        clock.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => h.Lifecycle.NextDue()["a.json"] == t0 + TimeSpan.FromSeconds(90), "the second retry is planned 60 s on (doubled)");
        Assert.Equal(2, h.Health.Get("a.json")!.ConsecutiveFailures);
        Assert.True(tokens.Requests.Count > afterFirst);

        Volatile.Write(ref failing, false);
        clock.Advance(TimeSpan.FromSeconds(60));
        await EventuallyAsync(() => h.Health.Get("a.json")?.LastRefreshed == t0 + TimeSpan.FromSeconds(90), "the third attempt succeeds");
        Assert.Equal("fresh-a", h.Credential("a.json").GetString("access_token"));
        status = h.Health.Get("a.json")!;
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Null(status.LastRefreshError);
        await EventuallyAsync(() => h.Lifecycle.NextDue()["a.json"] == t0 + TimeSpan.FromSeconds(90) + TimeSpan.FromHours(1) - LifecyclePlugin.Lead, "planned from the new expiry");
        Assert.DoesNotContain("old-a", h.Logs);
    }

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(5, 480)]
    [InlineData(6, 600)]
    [InlineData(40, 600)]
    public void Backoff_starts_at_30_seconds_and_doubles_up_to_10_minutes(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), TokenLifecycle.BackoffFor(failures));

    [Fact]
    public async Task A_revoked_refresh_token_gives_needs_login_the_scheduler_skips_it_and_nothing_retries()
    {
        var clock = new TimerClock();
        var start = clock.GetUtcNow();
        await using var tokens = await FakeUpstreamHost.StartAsync(async (http, _) =>
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"error":"invalid_grant","error_description":"Token has been revoked"}""");
        });
        await using var h = await LifecycleHarness.StartAsync(clock, tokens.Root + "token",
        [
            ("a.json", LifecyclePlugin.Credential("alice", "tok-a", start.AddMinutes(1))),
            ("b.json", LifecyclePlugin.Credential("bob", "tok-b", start.AddHours(10))),
        ]);
        // A 401 already cooled A as a whole for 30 minutes: without needs-login it would be "recovering soon".
        h.Scheduler.Book.Set("a.json", CooldownBook.AnyModel, new Cooldown(start + CooldownPolicy.AuthFailure, FailureKind.AuthRevoked, 401, 0));
        Assert.Equal(start + CooldownPolicy.AuthFailure, h.Scheduler.Begin("only-a", h.Routes("a.json"), 1).EarliestRecovery);

        clock.Advance(TimeSpan.Zero);
        await EventuallyAsync(() => h.Health.NeedsLogin("a.json") && !h.Lifecycle.NextDue().ContainsKey("a.json"), "A is in needs-login and unplanned");

        var status = h.Health.Get("a.json")!;
        Assert.Equal(start, status.NeedsLoginSince);
        Assert.Equal("the refresh token was revoked", status.NeedsLoginReason);
        Assert.Equal("login lifecycled", status.LoginCommand);
        Assert.Null(status.NextRefreshDue);
        Assert.Equal(0, status.ConsecutiveFailures); // not a transient failure: nothing to back off from

        // The scheduler never picks A, and A is not counted as recovering.
        for (var i = 0; i < 4; i++)
        {
            var selection = h.Scheduler.Begin("life-model", h.Routes("a.json", "b.json"), 1);
            Assert.True(selection.TryNext(out var route));
            Assert.Equal("b.json", route.Credential.Id);
            Assert.False(selection.TryNext(out _));
        }
        var onlyA = h.Scheduler.Begin("only-a", h.Routes("a.json"), 1);
        Assert.False(onlyA.TryNext(out _));
        Assert.Null(onlyA.EarliestRecovery);

        // No further attempts: not from the background (past any backoff), not from a 401.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.False(h.Lifecycle.NextDue().ContainsKey("a.json"));
        Assert.Equal(RefreshOutcome.Skipped, await h.Refresher.RefreshWithOutcomeAsync(h.Credential("a.json")));
        Assert.Single(tokens.Requests);

        // One clear warning, with the label and the command, and no token.
        var warning = Assert.Single(h.Logs.Split('\n'), l => l.Contains("needs a new login"));
        Assert.StartsWith("[Warning]", warning);
        Assert.Contains("alice@example.test", warning);
        Assert.Contains("login lifecycled", warning);
        Assert.DoesNotContain("tok-a", h.Logs);

        // A new login writes new tokens: the state clears and A serves again.
        await h.Store.WriteAsync("a.json", JsonNode.Parse(LifecyclePlugin.Credential("alice", "new-a", clock.GetUtcNow().AddHours(1)))!.AsObject());
        Assert.False(h.Health.NeedsLogin("a.json"));
        Assert.Null(h.Health.Get("a.json")!.NeedsLoginReason);
        Assert.True(h.Lifecycle.NextDue().ContainsKey("a.json"));
        var picked = Enumerable.Range(0, 4).Select(_ => h.Scheduler.Begin("life-model", h.Routes("a.json", "b.json"), 1).TryNext(out var r) ? r.Credential.Id : "none").ToList();
        Assert.Contains("a.json", picked);
    }

    [Fact]
    public async Task The_server_refreshes_an_expiring_credential_in_the_background()
    {
        await using var tokens = await TokenEndpointAsync();
        await using var server = await TestServer.StartAsync($"providers:\n  lifecycled:\n    token-url: \"{tokens.Root}token\"\n", root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestLifecycled", LifecyclePlugin.Compile());
            File.WriteAllText(Path.Combine(root, "auths", "a.json"), LifecyclePlugin.Credential("alice", "old-a", DateTimeOffset.UtcNow.AddMinutes(1)));
        });

        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(Path.Combine(server.AuthDir, "a.json"))).Contains("fresh-a"), "the token is renewed with no request");
        Assert.Single(tokens.Requests);
        Assert.DoesNotContain("fresh-a", server.Logs);
    }
}
