using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class WeightedRoundRobinTests
{
    private readonly ManualClock _clock = new();

    private static ModelRoute Route(string id, int weight) => new(new CredentialRecord { Id = id, Type = "t", Provider = "t", Label = id, Weight = weight }, "m");

    private Scheduler Create(string strategy = "weighted-round-robin") =>
        new(new ConfigStore(ConfigLoader.Defaults() with { Config = new ProxyConfig { Routing = new RoutingConfig { Strategy = strategy } } }), _clock);

    private static Dictionary<string, int> Count(Scheduler scheduler, ImmutableArray<ModelRoute> routes, int requests) =>
        Enumerable.Range(0, requests)
            .Select(_ => scheduler.Begin("m", routes, 1).TryNext(out var r) ? r.Credential.Id : "none")
            .GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void Weights_5_to_1_share_600_requests_within_5_percent()
    {
        var counts = Count(Create(), [Route("heavy", 5), Route("light", 1)], 600);
        Assert.InRange(counts["heavy"], 475, 525);
        Assert.InRange(counts["light"], 95, 105);
    }

    [Fact]
    public void The_sequence_is_smooth_not_bursty()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> routes = [Route("a", 2), Route("b", 1)];
        var picks = Enumerable.Range(0, 6).Select(_ => scheduler.Begin("m", routes, 1).TryNext(out var r) ? r.Credential.Id : "").ToList();
        Assert.Equal(["a", "b", "a", "a", "b", "a"], picks);
    }

    [Fact]
    public void Weight_0_excludes_a_credential_only_under_this_strategy()
    {
        ImmutableArray<ModelRoute> routes = [Route("on", 1), Route("off", 0)];
        Assert.Equal(new Dictionary<string, int> { ["on"] = 20 }, Count(Create(), routes, 20));
        Assert.Equal(10, Count(Create("round-robin"), routes, 20)["off"]);
        Assert.Equal(new Dictionary<string, int> { ["none"] = 3 }, Count(Create(), [Route("off", 0)], 3));
    }

    [Fact]
    public void A_failed_candidate_is_not_picked_again_in_the_same_request()
    {
        var scheduler = Create();
        var selection = scheduler.Begin("m", [Route("a", 5), Route("b", 1)], 1);
        Assert.True(selection.TryNext(out var first));
        Assert.True(selection.TryNext(out var second));
        Assert.NotEqual(first.Credential.Id, second.Credential.Id);
        Assert.False(selection.TryNext(out _));
    }

    [Fact]
    public void Weights_come_from_key_entries_and_credential_files()
    {
        var config = ConfigLoader.Parse("""
            routing: {strategy: weighted-round-robin}
            claude-api-key:
              - {api-key: k1, weight: 5}
              - {api-key: k2}
            openai-compatibility:
              - name: pool
                base-url: http://127.0.0.1:1/v1
                api-key-entries: [{api-key: a, weight: 0}, {api-key: b, weight: 3}]
            """).Config;
        var records = ConfigCredentials.Synthesize(config);
        Assert.Equal([5, 1, 0, 3], records.Select(r => r.Weight));
        Assert.Equal(RoutingStrategy.WeightedRoundRobin, Scheduler.StrategyOf(config));

        var dir = Directory.CreateTempSubdirectory().FullName;
        var file = Path.Combine(dir, "claude-a.json");
        Assert.Equal(7, AuthFileParser.Parse(file, dir, """{"type":"claude","weight":7}"""u8)!.Weight);
        Assert.Equal(1, AuthFileParser.Parse(file, dir, """{"type":"claude"}"""u8)!.Weight);
        Assert.Equal(0, AuthFileParser.Parse(file, dir, """{"type":"claude","weight":-2}"""u8)!.Weight);
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse("claude-api-key: [{api-key: k, weight: 2000000}]"));
    }
}
