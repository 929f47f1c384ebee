using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class NeedsLoginSchedulingTests
{
    private readonly ManualClock _clock = new();

    private static ModelRoute Route(string id) => new(new CredentialRecord { Id = id, Type = "t", Provider = "t", Label = id }, "m");

    private static List<string> Picks(Func<int> pick, ModelPool pool, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => pick() is var i and >= 0 ? pool.Route(i).Credential.Id : "none")];

    [Fact]
    public void A_pool_built_before_needs_login_parks_the_credential_on_its_next_pick_and_does_not_count_it_as_recovering()
    {
        var health = new CredentialHealth();
        var book = new CooldownBook();
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b"), Route("c")];
        var pool = new ModelPool("m", routes, book, _clock.GetUtcNow(), health);
        var none = new HashSet<int>();
        Assert.Equal(["a", "b", "c"], Picks(() => pool.Pick(RoutingStrategy.RoundRobin, none, _clock.GetUtcNow()), pool, 3));

        // b is cooling (a 401) when its refresh token turns out to be revoked; a is revoked as well.
        book.Set("b", CooldownBook.AnyModel, new Cooldown(_clock.GetUtcNow().AddMinutes(30), FailureKind.AuthRevoked, 401, 0));
        pool.MarkCooling(1, _clock.GetUtcNow().AddMinutes(30));
        health.MarkNeedsLogin(routes[0].Credential, "revoked", "login t", _clock.GetUtcNow());
        health.MarkNeedsLogin(routes[1].Credential, "revoked", "login t", _clock.GetUtcNow());

        Assert.Equal(["c", "c", "c", "c"], Picks(() => pool.Pick(RoutingStrategy.RoundRobin, none, _clock.GetUtcNow()), pool, 4));
        Assert.Null(pool.EarliestRecovery(_clock.GetUtcNow()));
        _clock.Advance(TimeSpan.FromHours(1)); // b's cooldown is over, but it still waits for a login
        Assert.Equal(["c", "c"], Picks(() => pool.Pick(RoutingStrategy.FillFirst, none, _clock.GetUtcNow()), pool, 2));
    }

    [Fact]
    public void The_scheduler_rebuilds_its_pools_when_needs_login_starts_and_ends()
    {
        var health = new CredentialHealth();
        var scheduler = new Scheduler(new ConfigStore(ConfigLoader.Defaults()), _clock, health);
        var a = new CredentialRecord { Id = "a", Type = "t", Provider = "t", Label = "a", Source = CredentialSource.File, Metadata = System.Text.Json.JsonDocument.Parse("""{"v":1}""").RootElement };
        ImmutableArray<ModelRoute> routes = [new(a, "m")];
        string Pick() => scheduler.Begin("m", routes, 1).TryNext(out var r) ? r.Credential.Id : "none";
        Assert.Equal("a", Pick());

        health.MarkNeedsLogin(a, "revoked", "login t", _clock.GetUtcNow());
        Assert.Equal("none", Pick());
        Assert.Null(scheduler.Begin("m", routes, 1).EarliestRecovery);

        // The same content again changes nothing; new content (a login) clears it.
        health.OnCredentialsChanged(new CredentialSnapshot([a], 2));
        Assert.Equal("none", Pick());
        var relogged = a with { Metadata = System.Text.Json.JsonDocument.Parse("""{"v":2}""").RootElement };
        health.OnCredentialsChanged(new CredentialSnapshot([relogged], 3));
        Assert.False(health.NeedsLogin("a"));
        Assert.Equal("a", Pick());
    }
}
