using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using PluginProxy.Host.Models;

namespace PluginProxy.Host.Scheduling;

/// <summary>Orders the credentials that can serve a model for one request: round-robin by model.</summary>
public sealed class Scheduler
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _cursors = new(StringComparer.Ordinal);

    /// <summary>Candidates in the order to try them.</summary>
    public IEnumerable<ModelRoute> Order(string model, ImmutableArray<ModelRoute> routes)
    {
        if (routes.Length <= 1) return routes;
        var cursor = _cursors.GetOrAdd(model, _ => new StrongBox<long>());
        var start = (int)((Interlocked.Increment(ref cursor.Value) - 1) % routes.Length);
        return routes.Skip(start).Concat(routes.Take(start));
    }
}
