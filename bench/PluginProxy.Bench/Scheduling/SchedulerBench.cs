using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Bench.Scheduling;

/// <summary>
/// The cost of choosing a credential for one request among 1,000, when none are cooling (the baseline) and when 999
/// are: the ratio shows whether cooling credentials are scanned per request. Read the Ratio column, not absolute times.
/// </summary>
[MemoryDiagnoser]
public class SchedulerBench
{
    private Scheduler _idle = null!;
    private Scheduler _cooling = null!;
    private ImmutableArray<ModelRoute> _routes;

    [Params(1000)]
    public int Credentials { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _routes = [.. Enumerable.Range(0, Credentials).Select(i => new ModelRoute(
            new CredentialRecord { Id = $"cred-{i:00000}", Type = "t", Provider = "t", Label = $"c{i}" }, "m"))];
        var config = new ConfigStore(ConfigLoader.Defaults());
        _idle = new Scheduler(config, TimeProvider.System);
        _cooling = new Scheduler(config, TimeProvider.System);
        var until = DateTimeOffset.UtcNow.AddHours(1);
        for (var i = 0; i < Credentials - 1; i++)
            _cooling.Book.Set($"cred-{i:00000}", "m", new Cooldown(until.AddSeconds(i), FailureKind.Quota, 429, 0));
        Pick(_idle);
        Pick(_cooling); // the first pick moves the cooling credentials into the pool's heap once
    }

    [Benchmark(Baseline = true)]
    public string NoneCooling() => Pick(_idle);

    [Benchmark]
    public string AllButOneCooling() => Pick(_cooling);

    private string Pick(Scheduler scheduler)
    {
        var selection = scheduler.Begin("m", _routes, 1);
        return selection.TryNext(out var route) ? route.Credential.Id : "";
    }
}
