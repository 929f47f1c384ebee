using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class SchedulerTests
{
    private readonly ManualClock _clock = new();

    private static ModelRoute Route(string id, int priority = 0, bool? disableCooling = null) => new(new CredentialRecord
    {
        Id = id, Type = "t", Provider = "t", Label = id, Priority = priority, DisableCooling = disableCooling,
    }, "m");

    private Scheduler Create(string strategy = "round-robin", bool disableCooling = false, int maxBackoff = 1800) =>
        new(new ConfigStore(ConfigLoader.Defaults() with
        {
            Config = new ProxyConfig { Routing = new RoutingConfig { Strategy = strategy }, DisableCooling = disableCooling, QuotaExceeded = new QuotaExceededConfig { MaxBackoffSeconds = maxBackoff } },
        }), _clock);

    private static string Pick(Scheduler scheduler, ImmutableArray<ModelRoute> routes, string model = "m") =>
        scheduler.Begin(model, routes, 1).TryNext(out var route) ? route.Credential.Id : "none";

    private static UpstreamException Quota(TimeSpan? retryAfter = null) => new(FailureKind.Quota, 429, "quota", retryAfter: retryAfter);

    [Fact]
    public void Round_robin_spreads_sequential_requests_evenly()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b"), Route("c"), Route("d")];
        var counts = Enumerable.Range(0, 100).Select(_ => Pick(scheduler, routes)).GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 24, 26));
    }

    [Fact]
    public void Fill_first_stays_on_the_first_until_it_fails()
    {
        var scheduler = Create("fill-first");
        ImmutableArray<ModelRoute> routes = [Route("b"), Route("a"), Route("c")];
        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal("a", Pick(scheduler, routes)));

        var selection = scheduler.Begin("m", routes, 1);
        selection.TryNext(out var first);
        selection.Failed(first, Quota(TimeSpan.FromSeconds(30)));

        Assert.Equal("b", Pick(scheduler, routes));
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal("a", Pick(scheduler, routes));
    }

    [Fact]
    public void A_quota_failure_cools_only_that_model_and_the_request_moves_on()
    {
        var scheduler = Create("fill-first");
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        var selection = scheduler.Begin("m", routes, 1);
        Assert.True(selection.TryNext(out var a));
        var cooldown = selection.Failed(a, Quota(TimeSpan.FromSeconds(30)));
        Assert.Equal(_clock.GetUtcNow().AddSeconds(30), cooldown!.Until);
        Assert.True(selection.TryNext(out var b));
        Assert.Equal("b", b.Credential.Id);
        Assert.False(selection.TryNext(out _));

        Assert.Equal("b", Pick(scheduler, routes, "m"));
        Assert.Equal("a", Pick(scheduler, routes, "other-model"));
    }

    [Fact]
    public void When_everything_cools_the_earliest_recovery_is_known_and_passing_it_frees_the_credential()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        var selection = scheduler.Begin("m", routes, 1);
        selection.TryNext(out var first);
        selection.Failed(first, Quota(TimeSpan.FromSeconds(90)));
        selection.TryNext(out var second);
        selection.Failed(second, Quota(TimeSpan.FromSeconds(40)));

        var fresh = scheduler.Begin("m", routes, 1);
        Assert.False(fresh.TryNext(out _));
        Assert.Equal(_clock.GetUtcNow().AddSeconds(40), fresh.EarliestRecovery);

        _clock.Advance(TimeSpan.FromSeconds(41));
        Assert.Equal(second.Credential.Id, Pick(scheduler, routes));
    }

    [Fact]
    public void Quota_without_a_reset_time_backs_off_exponentially_up_to_the_cap()
    {
        var scheduler = Create(maxBackoff: 5);
        ImmutableArray<ModelRoute> routes = [Route("a")];
        var waits = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var selection = scheduler.Begin("m", routes, 1);
            Assert.True(selection.TryNext(out var a));
            waits.Add((selection.Failed(a, Quota())!.Until - _clock.GetUtcNow()).TotalSeconds);
            _clock.Advance(TimeSpan.FromSeconds(6));
        }
        Assert.Equal([1, 2, 4, 5, 5], waits);
    }

    [Theory]
    [InlineData(FailureKind.AuthRevoked, 401, 30 * 60)]
    [InlineData(FailureKind.Forbidden, 403, 30 * 60)]
    [InlineData(FailureKind.ModelNotFound, 404, 12 * 3600)]
    [InlineData(FailureKind.Transient, 503, 60)]
    public void Failure_kinds_cool_for_their_documented_time(FailureKind kind, int status, int seconds)
    {
        var scheduler = Create();
        var selection = scheduler.Begin("m", [Route("a")], 1);
        selection.TryNext(out var a);
        var cooldown = selection.Failed(a, new UpstreamException(kind, status, "x"));
        Assert.Equal(TimeSpan.FromSeconds(seconds), cooldown!.Until - _clock.GetUtcNow());
    }

    [Fact]
    public void A_client_error_does_not_cool_down()
    {
        var scheduler = Create();
        var selection = scheduler.Begin("m", [Route("a")], 1);
        selection.TryNext(out var a);
        Assert.Null(selection.Failed(a, new UpstreamException(FailureKind.ClientError, 400, "bad")));
        Assert.Equal("a", Pick(scheduler, [Route("a")]));
    }

    [Fact]
    public void An_auth_failure_blocks_the_credential_for_every_model()
    {
        var scheduler = Create("fill-first");
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        Assert.Equal("a", Pick(scheduler, routes, "other")); // the other model's pool exists before the failure
        var selection = scheduler.Begin("m", routes, 1);
        selection.TryNext(out var a);
        selection.Failed(a, new UpstreamException(FailureKind.AuthRevoked, 401, "revoked"));

        Assert.Equal("b", Pick(scheduler, routes, "other"));
        Assert.Equal("b", Pick(scheduler, routes, "m"));
    }

    [Fact]
    public void Disable_cooling_drops_backoff_and_transient_cooldowns_but_keeps_explicit_reset_times()
    {
        foreach (var scheduler in new[] { Create(disableCooling: true) })
        {
            ImmutableArray<ModelRoute> routes = [Route("a")];
            var s1 = scheduler.Begin("m", routes, 1);
            s1.TryNext(out var a);
            Assert.Null(s1.Failed(a, Quota()));
            Assert.Null(s1.Failed(a, new UpstreamException(FailureKind.Transient, 500, "x")));
            Assert.NotNull(s1.Failed(a, Quota(TimeSpan.FromSeconds(10))));
        }
        var perCredential = Create();
        var s2 = perCredential.Begin("m", [Route("a", disableCooling: true)], 1);
        s2.TryNext(out var c);
        Assert.Null(s2.Failed(c, new UpstreamException(FailureKind.Transient, 502, "x")));
    }

    [Fact]
    public void Higher_priority_is_preferred_and_lower_priority_serves_while_it_cools()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> routes = [Route("low", 0), Route("high1", 5), Route("high2", 5)];
        var picks = Enumerable.Range(0, 10).Select(_ => Pick(scheduler, routes)).ToHashSet();
        Assert.Equal(["high1", "high2"], picks.Order());

        foreach (var id in new[] { "high1", "high2" }) scheduler.Book.Set(id, "m", new Cooldown(_clock.GetUtcNow().AddMinutes(1), FailureKind.Quota, 429, 0));
        Assert.Equal("low", Pick(scheduler, routes)); // the pools rebuild from the book on the next registry revision
    }

    [Fact]
    public void With_999_of_1000_cooling_the_free_one_is_picked()
    {
        var scheduler = Create();
        var routes = Enumerable.Range(0, 1000).Select(i => Route($"cred-{i:0000}")).ToImmutableArray();
        for (var i = 0; i < 1000; i++)
            if (i != 613) scheduler.Book.Set($"cred-{i:0000}", "m", new Cooldown(_clock.GetUtcNow().AddMinutes(5 + i % 7), FailureKind.Quota, 429, 0));

        for (var n = 0; n < 20; n++) Assert.Equal("cred-0613", Pick(scheduler, routes));
    }

    [Fact]
    public void Cooldowns_survive_new_registry_revisions_and_clear_when_the_credential_tokens_change()
    {
        var scheduler = Create("fill-first");
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        var selection = scheduler.Begin("m", routes, 1);
        selection.TryNext(out var a);
        selection.Failed(a, Quota(TimeSpan.FromMinutes(10)));

        Assert.Equal("b", scheduler.Begin("m", routes, 2).TryNext(out var r2) ? r2.Credential.Id : null);

        var file = new CredentialRecord { Id = "a", Type = "t", Provider = "t", Label = "a", Metadata = System.Text.Json.JsonDocument.Parse("{\"access_token\":\"1\"}").RootElement };
        scheduler.OnCredentialsChanged(new PluginProxy.Host.Credentials.CredentialSnapshot([file], 1));
        Assert.NotNull(scheduler.Book.Get("a", "m")); // first sight: nothing to compare with
        var refreshed = file with { Metadata = System.Text.Json.JsonDocument.Parse("{\"access_token\":\"2\"}").RootElement };
        scheduler.OnCredentialsChanged(new PluginProxy.Host.Credentials.CredentialSnapshot([refreshed], 2));
        Assert.Null(scheduler.Book.Get("a", "m"));
        Assert.Equal("a", Pick(scheduler, routes));
    }
}
