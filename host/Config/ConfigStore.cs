namespace PluginProxy.Host.Config;

/// <summary>
/// Holds the current config snapshot. Readers take <see cref="Current"/> once per request and never lock;
/// a reload swaps the reference and tells subscribers.
/// </summary>
internal sealed class ConfigStore(LoadedConfig initial)
{
    private LoadedConfig _current = initial;

    /// <summary>The address the server listens on. Fixed at start: host changes need a restart.</summary>
    public string BoundHost { get; } = ConfigLoader.BindHost(initial.Config);

    public LoadedConfig Current => Volatile.Read(ref _current);

    public ProxyConfig Config => Current.Config;

    /// <summary>Raised after a new snapshot is published, with (old, new).</summary>
    public event Action<LoadedConfig, LoadedConfig>? Changed;

    public void Publish(LoadedConfig next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        Changed?.Invoke(previous, next);
    }
}
