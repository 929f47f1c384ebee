using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Config;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Sockets;

/// <summary>One accepted plugin WebSocket, as the host sees it: who serves it and which client key opened it.</summary>
internal sealed class LiveSocket(LoadedPlugin plugin, string provider, string? clientKey) : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private string? _reason;

    public LoadedPlugin Plugin { get; } = plugin;
    public string Provider { get; } = provider;
    public string? ClientKey { get; } = clientKey;

    /// <summary>Fires when the host ends the session (ws-auth, key removed, plugin swapped, server stopping).</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Why the host ended it, for the close frame and the log; null while it runs or when the peer left.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    public void Cancel(string reason)
    {
        Interlocked.CompareExchange(ref _reason, reason, null);
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Ended meanwhile.
        }
    }

    public void Dispose() => _cancel.Dispose();
}

/// <summary>
/// Every live plugin WebSocket, and the rules that end them from outside: turning <c>ws-auth</c> on drops sessions
/// opened without a client key, removing a key from <c>api-keys</c> drops the sessions it opened (while <c>ws-auth</c>
/// is on), a plugin swap drops the sessions of the versions that left the set (their relays reconnect to the new one),
/// and the server stopping drops them all. Ending means cancelling the token the plugin's <c>RunAsync</c> got.
/// </summary>
internal sealed partial class SocketSessions : IDisposable
{
    private readonly ConfigStore _config;
    private readonly PluginRuntime _plugins;
    private readonly ILogger _logger;
    private readonly CancellationTokenRegistration _stopping;
    private ImmutableHashSet<LiveSocket> _live = ImmutableHashSet.Create<LiveSocket>(ReferenceEqualityComparer.Instance);
    private volatile bool _stopped;

    public SocketSessions(ConfigStore config, PluginRuntime plugins, IHostApplicationLifetime lifetime, ILogger<SocketSessions> logger)
    {
        _config = config;
        _plugins = plugins;
        _logger = logger;
        _config.Changed += OnConfigChanged;
        _plugins.Changed += OnPluginsChanged;
        // Kestrel waits for running requests when it stops; a session only ends when told to.
        _stopping = lifetime.ApplicationStopping.Register(StopAll);
    }

    public int Count => Volatile.Read(ref _live).Count;

    /// <summary>Tracks a session about to be accepted; null when the server is stopping.</summary>
    public LiveSocket? Register(LoadedPlugin plugin, string provider, string? clientKey)
    {
        if (_stopped) return null;
        var live = new LiveSocket(plugin, provider, clientKey);
        ImmutableInterlocked.Update(ref _live, (set, item) => set.Add(item), live);
        // A swap published between the caller's lease and this registration found nothing to cancel: check here.
        if (!_plugins.Current.Plugins.Contains(plugin)) live.Cancel($"the plugin serving {provider} was replaced");
        if (_stopped) live.Cancel("the server is stopping");
        return live;
    }

    public void Unregister(LiveSocket live) => ImmutableInterlocked.Update(ref _live, (set, item) => set.Remove(item), live);

    private void OnConfigChanged(LoadedConfig previous, LoadedConfig next)
    {
        if (!next.Config.WsAuth) return;
        var keys = next.Config.ApiKeys;
        foreach (var live in Volatile.Read(ref _live))
        {
            // With a key: it must still be listed. Without: only while ws-auth was already on with no keys at all
            // (loopback, nothing to check against); switching ws-auth on drops every key-less session, as CLIProxyAPI does.
            var allowed = live.ClientKey is { } key ? keys.Contains(key, StringComparer.Ordinal) : previous.Config.WsAuth && keys.Count == 0;
            if (allowed) continue;
            LogDropped(live.Provider, live.ClientKey is null ? "ws-auth requires a client key" : "its client key was removed from api-keys");
            live.Cancel(live.ClientKey is null ? "ws-auth: a client key is required" : "the client key was revoked");
        }
    }

    private void OnPluginsChanged(PluginSet set)
    {
        foreach (var live in Volatile.Read(ref _live))
        {
            if (set.Plugins.Contains(live.Plugin)) continue;
            LogDropped(live.Provider, "its plugin was removed or replaced");
            live.Cancel($"the plugin serving {live.Provider} was replaced");
        }
    }

    internal void StopAll()
    {
        _stopped = true;
        foreach (var live in Volatile.Read(ref _live)) live.Cancel("the server is stopping");
    }

    public void Dispose()
    {
        StopAll();
        _stopping.Dispose();
        _config.Changed -= OnConfigChanged;
        _plugins.Changed -= OnPluginsChanged;
    }

    [LoggerMessage(LogLevel.Information, "WebSocket session of {Provider} ended by the server: {Reason}")]
    private partial void LogDropped(string provider, string reason);
}
