using System.Runtime.Loader;
using McMaster.NETCore.Plugins;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// One version of one plugin folder, in its own collectible load context. It stays loaded while any plugin set
/// that contains it is current or still leased, and unloads when the last such set drains.
/// </summary>
internal sealed class LoadedPlugin
{
    private readonly PluginLoader _loader;
    private int _sets;

    internal LoadedPlugin(string name, string version, string fingerprint, PluginLoader loader,
        IReadOnlyList<IProviderPlugin> providers, IReadOnlyList<IRoutingPlugin> routers)
    {
        Name = name;
        Version = version;
        Fingerprint = fingerprint;
        _loader = loader;
        Providers = providers;
        Routers = routers;
        Catalogs = providers.ToDictionary(p => (object)p, p => CopyCatalog(p.Models), ReferenceEqualityComparer.Instance);
    }

    /// <summary>Each provider's catalog, copied into host-owned objects once: a collection the plugin built (even a
    /// collection expression) can be a type from the plugin's assembly and would keep its context alive.</summary>
    internal IReadOnlyDictionary<object, System.Collections.Immutable.ImmutableArray<ModelInfo>> Catalogs { get; }

    private static System.Collections.Immutable.ImmutableArray<ModelInfo> CopyCatalog(IReadOnlyList<ModelInfo> models) =>
        [.. models.Select(m => m with { Thinking = m.Thinking is { } t ? t with { Levels = [.. t.Levels] } : null })];

    /// <summary>The plugin folder's name.</summary>
    public string Name { get; }
    public string Version { get; }
    internal string Fingerprint { get; }
    public IReadOnlyList<IProviderPlugin> Providers { get; }
    public IReadOnlyList<IRoutingPlugin> Routers { get; }
    /// <summary>The load context, for diagnostics and for tests that prove it is collected after unloading.</summary>
    public AssemblyLoadContext LoadContext => _loader.LoadContext;

    internal event Action<LoadedPlugin>? Unloaded;

    internal void AddSet() => Interlocked.Increment(ref _sets);

    internal void ReleaseSet()
    {
        if (Interlocked.Decrement(ref _sets) == 0) Unload();
    }

    private void Unload()
    {
        _loader.Dispose();
        Unloaded?.Invoke(this);
    }
}
