using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;

namespace PluginProxy.Host.Scheduling;

/// <summary>
/// The candidates for one model, grouped in priority buckets (highest first). Available candidates sit in sorted
/// sets, cooling ones in a min-heap by recovery time, so a pick costs O(log n) however many are cooling, and
/// candidates come back on their own once their time has passed. A credential in needs-login is parked: neither
/// available nor cooling, so it is never picked and never counted as recovering; the scheduler starts fresh pools when
/// the needs-login set changes.
/// </summary>
internal sealed class ModelPool
{
    private readonly ModelRoute[] _routes;
    private readonly string _model;
    private readonly CooldownBook _book;
    private readonly (int Start, int End)[] _buckets;
    private readonly int[] _bucketOf;
    private readonly SortedSet<int>[] _available;
    private readonly long[] _cursor;
    private readonly bool[] _cooling;
    private readonly bool[] _parked;
    private readonly long[] _current; // smooth weighted round-robin state per candidate
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly CredentialHealth? _health;
    private readonly PriorityQueue<int, DateTimeOffset> _heap = new();
    private readonly Lock _gate = new();

    public ModelPool(string model, IEnumerable<ModelRoute> routes, CooldownBook book, DateTimeOffset now, CredentialHealth? health = null)
    {
        _model = model;
        _book = book;
        _health = health;
        _routes = [.. routes.OrderByDescending(r => r.Credential.Priority).ThenBy(r => r.Credential.Id, StringComparer.Ordinal)];
        _bucketOf = new int[_routes.Length];
        _cooling = new bool[_routes.Length];
        _parked = new bool[_routes.Length];
        _current = new long[_routes.Length];
        for (var i = 0; i < _routes.Length; i++) _indexOf.TryAdd(_routes[i].Credential.Id, i);
        var buckets = new List<(int, int)>();
        for (var i = 0; i < _routes.Length; i++)
        {
            if (i == 0 || _routes[i].Credential.Priority != _routes[i - 1].Credential.Priority) buckets.Add((i, i));
            buckets[^1] = (buckets[^1].Item1, i + 1);
            _bucketOf[i] = buckets.Count - 1;
        }
        _buckets = [.. buckets];
        _available = [.. _buckets.Select(_ => new SortedSet<int>())];
        _cursor = new long[_buckets.Length];
        for (var i = 0; i < _routes.Length; i++)
        {
            if (NeedsLogin(i)) _parked[i] = true;
            else if (book.BlockedUntil(_routes[i].Credential.Id, model, now) is { } until) Cool(i, until);
            else _available[_bucketOf[i]].Add(i);
        }
    }

    public ModelRoute Route(int index) => _routes[index];

    /// <summary>The next candidate for <paramref name="strategy"/> that this request has not tried, or -1.</summary>
    public int Pick(RoutingStrategy strategy, IReadOnlySet<int> tried, DateTimeOffset now)
    {
        lock (_gate)
        {
            ReleaseExpired(now);
            for (var b = 0; b < _buckets.Length; b++)
            {
                while (true)
                {
                    var candidate = strategy switch
                    {
                        RoutingStrategy.FillFirst => First(b, _buckets[b].Start, tried),
                        RoutingStrategy.WeightedRoundRobin => Weighted(b, tried),
                        _ => NextFromCursor(b, tried),
                    };
                    if (candidate < 0) break;
                    // needs-login may have started after this pool was built.
                    if (NeedsLogin(candidate))
                    {
                        Park(candidate);
                        continue;
                    }
                    // A credential-wide cooldown (auth failure) may have started in another model's pool: apply it here lazily.
                    if (_book.BlockedUntil(_routes[candidate].Credential.Id, _model, now) is { } until)
                    {
                        Cool(candidate, until);
                        continue;
                    }
                    if (strategy == RoutingStrategy.RoundRobin) _cursor[b] = candidate + 1;
                    return candidate;
                }
            }
            return -1;
        }
    }

    /// <summary>
    /// The candidate for credential <paramref name="credentialId"/> when it is usable now (in this pool, untried, not
    /// cooling, not waiting for a login; under weighted round-robin, weight above 0), else -1. Priority does not matter:
    /// a session's binding outranks it.
    /// </summary>
    public int PickBound(string credentialId, RoutingStrategy strategy, IReadOnlySet<int> tried, DateTimeOffset now)
    {
        if (!_indexOf.TryGetValue(credentialId, out var index) || tried.Contains(index)) return -1;
        if (strategy == RoutingStrategy.WeightedRoundRobin && _routes[index].Credential.Weight <= 0) return -1;
        lock (_gate)
        {
            ReleaseExpired(now);
            if (!_available[_bucketOf[index]].Contains(index)) return -1;
            if (NeedsLogin(index))
            {
                Park(index);
                return -1;
            }
            if (_book.BlockedUntil(credentialId, _model, now) is { } until)
            {
                Cool(index, until);
                return -1;
            }
            return index;
        }
    }

    /// <summary>Takes a candidate out of rotation until <paramref name="until"/>.</summary>
    public void MarkCooling(int index, DateTimeOffset until)
    {
        lock (_gate) Cool(index, until);
    }

    /// <summary>When the first cooling candidate frees up, or null when none is cooling.</summary>
    public DateTimeOffset? EarliestRecovery(DateTimeOffset now)
    {
        lock (_gate)
        {
            ReleaseExpired(now);
            while (_heap.TryPeek(out var index, out var until))
            {
                if (_cooling[index] && NeedsLogin(index)) Park(index); // not "recovering soon": it waits for a login
                // Entries can be stale: cleared (skip) or extended by a later failure (re-queue at the new time).
                var actual = _book.BlockedUntil(_routes[index].Credential.Id, _model, now);
                if (!_cooling[index] || actual is null)
                {
                    _heap.Dequeue();
                    if (_cooling[index]) Release(index);
                    continue;
                }
                if (actual > until)
                {
                    _heap.Dequeue();
                    _heap.Enqueue(index, actual.Value);
                    continue;
                }
                return until;
            }
            return null;
        }
    }

    private bool NeedsLogin(int index) => _health?.NeedsLogin(_routes[index].Credential.Id) == true;

    private void Park(int index)
    {
        if (_parked[index]) return;
        _parked[index] = true;
        if (_cooling[index]) _cooling[index] = false; // its heap entries go stale and are dropped as they surface
        else _available[_bucketOf[index]].Remove(index);
    }

    private void Cool(int index, DateTimeOffset until)
    {
        if (_parked[index]) return;
        if (!_cooling[index])
        {
            _cooling[index] = true;
            _available[_bucketOf[index]].Remove(index);
        }
        _heap.Enqueue(index, until);
    }

    private void ReleaseExpired(DateTimeOffset now)
    {
        while (_heap.TryPeek(out var index, out var until) && until <= now)
        {
            _heap.Dequeue();
            if (!_cooling[index]) continue;
            if (_book.BlockedUntil(_routes[index].Credential.Id, _model, now) is { } later) _heap.Enqueue(index, later);
            else Release(index);
        }
    }

    private void Release(int index)
    {
        _cooling[index] = false;
        _available[_bucketOf[index]].Add(index);
    }

    private int First(int bucket, int from, IReadOnlySet<int> tried)
    {
        var set = _available[bucket];
        if (set.Count == 0 || from > set.Max) return -1;
        foreach (var index in set.GetViewBetween(from, set.Max))
            if (!tried.Contains(index)) return index;
        return -1;
    }

    /// <summary>
    /// Smooth weighted round-robin (nginx's): every usable candidate gains its weight, the richest is chosen and pays the
    /// total back, so a 5:1 pair goes A A B A A A rather than in bursts. Weight 0 never gains and is never chosen.
    /// </summary>
    private int Weighted(int bucket, IReadOnlySet<int> tried)
    {
        long total = 0;
        var best = -1;
        foreach (var index in _available[bucket])
        {
            var weight = _routes[index].Credential.Weight;
            if (weight <= 0 || tried.Contains(index)) continue;
            _current[index] += weight;
            total += weight;
            if (best < 0 || _current[index] > _current[best]) best = index;
        }
        if (best >= 0) _current[best] -= total;
        return best;
    }

    private int NextFromCursor(int bucket, IReadOnlySet<int> tried)
    {
        var (start, end) = _buckets[bucket];
        var cursor = start + (int)(_cursor[bucket] - start < 0 ? 0 : (_cursor[bucket] - start) % (end - start));
        var next = First(bucket, cursor, tried);
        return next >= 0 ? next : First(bucket, start, tried);
    }
}
