using System.Collections.Concurrent;
using System.Collections.Immutable;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;

namespace PluginProxy.Host.Scheduling;

internal enum RoutingStrategy
{
    RoundRobin,
    FillFirst,
    /// <summary>Round-robin in proportion to <c>weight</c> (credential files and key entries; default 1, 0 = never).</summary>
    WeightedRoundRobin,
}

/// <summary>
/// Chooses credentials for requests: <c>routing.strategy</c> round-robin or fill-first within the highest
/// <c>priority</c> that has a usable credential, skipping cooling ones, and records what each attempt did to the
/// credential (<see cref="CooldownPolicy"/>). Cooldowns clear when their time passes, when a credential's tokens
/// change, or on <see cref="Reset"/>. Credentials in needs-login (<see cref="CredentialHealth"/>) are never chosen and
/// never counted as recovering.
/// </summary>
internal sealed class Scheduler
{
    private readonly ConfigStore _config;
    private readonly TimeProvider _clock;

    // Pools belong to one registry revision; a new revision (or a reset) starts a fresh set, rebuilt from the book.
    private sealed class PoolSet(long revision)
    {
        public long Revision { get; } = revision;
        public ConcurrentDictionary<string, ModelPool> Pools { get; } = new(StringComparer.Ordinal);
    }

    private PoolSet _pools = new(-1);
    private Dictionary<string, string> _credentialFingerprints = new(StringComparer.Ordinal);

    public Scheduler(ConfigStore config, TimeProvider clock, CredentialHealth? health = null)
    {
        _config = config;
        _clock = clock;
        Health = health;
        Affinity = new SessionAffinity(clock);
        ResponseChains = new SessionAffinity(clock, countPerCredential: false);
        // Rare (a revoked token, a new login): fresh pools are simpler than patching every pool that holds the credential.
        if (health is not null) health.NeedsLoginChanged += () => Volatile.Write(ref _pools, new PoolSet(-1));
    }

    public CooldownBook Book { get; } = new();

    /// <summary>Token health (needs-login), when the server tracks it.</summary>
    public CredentialHealth? Health { get; }

    public TimeProvider Clock => _clock;

    /// <summary>The conversation bindings of <c>routing.session-affinity</c> (read-only use: <see cref="SessionAffinity.View"/>).</summary>
    public SessionAffinity Affinity { get; }

    /// <summary>
    /// Responses ids the proxy handed out, each mapped to the conversation (session key) it answered, so a turn that names
    /// only <c>previous_response_id</c> continues that conversation. Same bound and TTL as <see cref="Affinity"/>; model-free
    /// (response ids are unique), stored under the empty model.
    /// </summary>
    public SessionAffinity ResponseChains { get; }

    public static RoutingStrategy StrategyOf(ProxyConfig config) => config.Routing.Strategy?.Trim().ToLowerInvariant() switch
    {
        "fill-first" or "fillfirst" or "ff" => RoutingStrategy.FillFirst,
        "weighted-round-robin" or "weightedroundrobin" or "wrr" => RoutingStrategy.WeightedRoundRobin,
        _ => RoutingStrategy.RoundRobin,
    };

    /// <summary>
    /// Starts choosing for one request. <paramref name="model"/> is the registry's id for the routed model (cooldowns are
    /// kept under it); <paramref name="pinnedProvider"/> narrows the candidates, so it gets a pool of its own.
    /// </summary>
    /// <param name="session">The conversation (<see cref="SessionKeys"/>) when <c>routing.session-affinity</c> is on, else null.</param>
    public Selection Begin(string model, ImmutableArray<ModelRoute> routes, long registryRevision, string? pinnedProvider = null, string? session = null)
    {
        var pools = Volatile.Read(ref _pools);
        if (pools.Revision != registryRevision)
        {
            Interlocked.CompareExchange(ref _pools, new PoolSet(registryRevision), pools);
            pools = Volatile.Read(ref _pools);
        }
        var key = pinnedProvider is null ? model : $"{model}\u0001{pinnedProvider.ToLowerInvariant()}";
        var pool = pools.Pools.GetOrAdd(key, _ => new ModelPool(model, routes, Book, _clock.GetUtcNow(), Health));
        var config = _config.Config;
        // "r:<previous_response_id>": the conversation that answer belonged to, when the proxy handed it out.
        if (session is ['r', ':', ..] && ResponseChains.BoundTo("", session[2..], config.Routing.AffinityTtl) is { } chained) session = chained;
        return new Selection(this, pool, model, StrategyOf(config))
        {
            Session = session,
            AffinityTtl = config.Routing.AffinityTtl,
            MaxPerRound = Math.Max(0, config.MaxRetryCredentials),
        };
    }

    /// <summary>Clears cooldowns (all, or one credential's) and rebuilds the pools.</summary>
    public int Reset(string? credentialId = null, string? model = null)
    {
        var removed = Book.Clear(credentialId, model);
        Volatile.Write(ref _pools, new PoolSet(-1));
        return removed;
    }

    /// <summary>Called with each new credential snapshot: a credential whose tokens or key changed starts clean.</summary>
    public void OnCredentialsChanged(CredentialSnapshot snapshot)
    {
        var next = snapshot.All.ToDictionary(c => c.Id, Fingerprint, StringComparer.Ordinal);
        var previous = Interlocked.Exchange(ref _credentialFingerprints, next);
        foreach (var (id, fingerprint) in next)
            if (previous.TryGetValue(id, out var old) && old != fingerprint && Book.Clear(id) > 0)
                Volatile.Write(ref _pools, new PoolSet(-1));
    }

    private static string Fingerprint(PluginProxy.Abstractions.Credentials.CredentialRecord c) =>
        (c.Metadata.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "" : c.Metadata.GetRawText()) + "\0" + c.ApiKey;

    /// <param name="force">An operator's rule asked for a cooldown (<see cref="CooldownPolicy.Forced"/>).</param>
    internal (Cooldown Cooldown, bool WholeCredential)? Record(ModelRoute route, string model, UpstreamException failure, bool force = false)
    {
        var current = _config.Config;
        var disable = route.Credential.DisableCooling ?? current.DisableCooling;
        var maxBackoff = TimeSpan.FromSeconds(Math.Max(1, current.QuotaExceeded.MaxBackoffSeconds));
        var transient = CooldownPolicy.TransientFor(current.TransientErrorCooldownSeconds);
        var previous = Book.Get(route.Credential.Id, model);
        var now = _clock.GetUtcNow();
        var decision = force
            ? CooldownPolicy.Forced(failure, previous, disable, maxBackoff, transient, now)
            : CooldownPolicy.For(failure, previous, disable, maxBackoff, now, transient);
        if (decision is { } d)
        {
            // Why and since when, for the management API's status listing.
            d = (d.Cooldown with { Reason = failure.Message, Since = now }, d.WholeCredential);
            decision = d;
            Book.Set(route.Credential.Id, d.WholeCredential ? CooldownBook.AnyModel : model, d.Cooldown);
        }
        return decision;
    }

}

/// <summary>One request's walk over the candidates: each is tried at most once per round.</summary>
internal sealed class Selection
{
    private readonly Scheduler _scheduler;
    private readonly ModelPool _pool;
    private readonly RoutingStrategy _strategy;
    private readonly HashSet<int> _tried = [];
    private readonly List<(int Index, ModelRoute Route)> _attempts = [];

    internal Selection(Scheduler scheduler, ModelPool pool, string model, RoutingStrategy strategy)
    {
        _scheduler = scheduler;
        _pool = pool;
        _strategy = strategy;
        Model = model;
    }

    public string Model { get; }

    /// <summary>The conversation this request belongs to, when session affinity is on.</summary>
    public string? Session { get; init; }

    public TimeSpan AffinityTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary><c>max-retry-credentials</c>: how many different credentials one round may try; 0 = all.</summary>
    public int MaxPerRound { get; init; }

    public bool TryNext(out ModelRoute route)
    {
        var now = _scheduler.Clock.GetUtcNow();
        var index = -1;
        if (MaxPerRound > 0 && _tried.Count >= MaxPerRound)
        {
            route = null!;
            return false;
        }
        // A round starts on the conversation's credential while it is usable; otherwise it fails over as usual and
        // the success rebinds the conversation.
        if (Session is not null && _tried.Count == 0 && _scheduler.Affinity.BoundTo(Model, Session, AffinityTtl) is { } bound)
            index = _pool.PickBound(bound, _strategy, _tried, now);
        if (index < 0) index = _pool.Pick(_strategy, _tried, now);
        if (index < 0)
        {
            route = null!;
            return false;
        }
        _tried.Add(index);
        route = _pool.Route(index);
        _attempts.Add((index, route));
        return true;
    }

    /// <summary>The candidates this request has tried, in order, once each (for <c>streaming.bootstrap-retries</c>).</summary>
    public IReadOnlyList<ModelRoute> Attempted => [.. _attempts.Select(a => a.Route).Distinct()];

    /// <param name="responseId">The Responses id the client got for this answer: a later <c>previous_response_id</c> naming it continues this conversation.</param>
    public void Succeeded(ModelRoute route, string? responseId = null)
    {
        _scheduler.Book.Succeeded(route.Credential.Id, Model);
        if (Session is null) return;
        _scheduler.Affinity.Bind(Model, Session, route.Credential.Id, AffinityTtl);
        if (responseId is not null) _scheduler.ResponseChains.Bind("", responseId, Session, AffinityTtl);
    }

    /// <summary>Records a candidate's failure; returns the cooldown it got, if any.</summary>
    /// <param name="force">An operator's rule asked for a cooldown whatever the failure.</param>
    public Cooldown? Failed(ModelRoute route, UpstreamException failure, bool force = false)
    {
        var decision = _scheduler.Record(route, Model, failure, force);
        if (decision is { } d && _attempts.FindLast(a => ReferenceEquals(a.Route, route)) is { Route: not null } attempt)
            _pool.MarkCooling(attempt.Index, d.Cooldown.Until);
        return decision?.Cooldown;
    }

    /// <summary>When the first cooling candidate for this model frees up, or null.</summary>
    public DateTimeOffset? EarliestRecovery => _pool.EarliestRecovery(_scheduler.Clock.GetUtcNow());

    /// <summary>Starts another round: every candidate may be tried again.</summary>
    public void NewRound() => _tried.Clear();
}
