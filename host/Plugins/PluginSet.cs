using System.Collections.Frozen;
using System.Collections.Immutable;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// The plugins serving at one moment. Immutable; a swap publishes a new set. Requests lease the set they start
/// with, so a swap never changes what an in-flight request runs; when a replaced set's last lease ends, the plugin
/// versions only it contained are unloaded.
/// </summary>
internal sealed class PluginSet
{
    // Starts at 1: the reference held by the runtime while this set is current.
    private int _leases = 1;

    internal PluginSet(long revision, ImmutableArray<LoadedPlugin> plugins)
    {
        Revision = revision;
        Plugins = plugins;
        var providers = new Dictionary<string, IProviderPlugin>(StringComparer.OrdinalIgnoreCase);
        foreach (var plugin in plugins)
        {
            foreach (var provider in plugin.Providers)
            {
                foreach (var type in provider.CredentialTypes) providers.TryAdd(type, provider);
            }
        }
        ProvidersByType = providers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _catalogs = plugins.SelectMany(p => p.Catalogs).ToFrozenDictionary(kv => kv.Key, kv => kv.Value, ReferenceEqualityComparer.Instance);
        Routers = [.. plugins.SelectMany(p => p.Routers).OrderBy(r => r.Order).ThenBy(r => r.Id, StringComparer.Ordinal)];
        foreach (var plugin in plugins) plugin.AddSet();
    }

    public long Revision { get; }
    public ImmutableArray<LoadedPlugin> Plugins { get; }

    /// <summary>Provider plugin for each credential type.</summary>
    public FrozenDictionary<string, IProviderPlugin> ProvidersByType { get; }

    public ImmutableArray<IRoutingPlugin> Routers { get; }

    public IProviderPlugin? ProviderFor(string credentialType) => ProvidersByType.GetValueOrDefault(credentialType);

    private readonly FrozenDictionary<object, ImmutableArray<ModelInfo>> _catalogs;

    /// <summary>The provider's model catalog as copied when it loaded (host-owned; the plugin's getter is not called again).</summary>
    public IReadOnlyList<ModelInfo> CatalogOf(IProviderPlugin provider) => _catalogs.TryGetValue(provider, out var catalog) ? catalog : [];

    internal bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _leases);
            if (current == 0) return false; // drained: the caller re-reads the runtime's current set
            if (Interlocked.CompareExchange(ref _leases, current + 1, current) == current) return true;
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _leases) != 0) return;
        foreach (var plugin in Plugins) plugin.ReleaseSet();
    }
}

/// <summary>A request's hold on a <see cref="PluginSet"/>; dispose when the request (or its stream) ends.</summary>
internal sealed class PluginLease : IDisposable
{
    private int _disposed;

    internal PluginLease(PluginSet set) => Set = set;

    public PluginSet Set { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Set.Release();
    }
}
