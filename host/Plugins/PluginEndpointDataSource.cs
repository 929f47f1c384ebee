using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// Endpoints built from the loaded plugins (routing plugins' routes, provider plugins' WebSocket paths), rebuilt on every
/// plugin set change and announced through a change token, so they appear and disappear without a restart. Subclasses
/// say how one set becomes endpoints and call <see cref="Rebuild"/> at the end of their constructor.
/// </summary>
internal abstract class PluginEndpointDataSource : Microsoft.AspNetCore.Routing.EndpointDataSource, IDisposable
{
    private sealed record Table(long Revision, IReadOnlyList<Endpoint> Endpoints, CancellationTokenSource Changes)
    {
        public IChangeToken Token { get; } = new CancellationChangeToken(Changes.Token);
    }

    private readonly PluginRuntime _plugins;
    private readonly Lock _rebuildGate = new();
    private Table _table = new(-1, [], new CancellationTokenSource());

    protected PluginEndpointDataSource(PluginRuntime plugins)
    {
        _plugins = plugins;
        _plugins.Changed += OnPluginsChanged;
    }

    public override IReadOnlyList<Endpoint> Endpoints => Volatile.Read(ref _table).Endpoints;

    public override IChangeToken GetChangeToken() => Volatile.Read(ref _table).Token;

    /// <summary>The endpoints of one plugin set; runs under a lease, so plugin getters may be called.</summary>
    protected abstract IReadOnlyList<Endpoint> Build(PluginSet set);

    private void OnPluginsChanged(PluginSet _) => Rebuild();

    /// <summary>Rebuilds from the runtime's current set, read under a lease inside the lock so a racing change never publishes a stale table.</summary>
    internal void Rebuild()
    {
        Table previous;
        lock (_rebuildGate)
        {
            previous = _table;
            using var lease = _plugins.Acquire(); // the getters run plugin code: keep their context loaded meanwhile
            if (lease.Set.Revision == previous.Revision) return;
            Volatile.Write(ref _table, new Table(lease.Set.Revision, Build(lease.Set), new CancellationTokenSource()));
        }
        // After publishing: the matcher re-reads Endpoints when the token fires. Not disposed: a consumer may still be
        // registering on the old token, and must then be called at once.
        previous.Changes.Cancel();
    }

    public void Dispose() => _plugins.Changed -= OnPluginsChanged;
}
