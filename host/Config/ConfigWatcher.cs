using Microsoft.Extensions.Logging;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Config;

/// <summary>
/// Reloads config.yaml when it changes: debounced, skipped when the bytes hash the same, and a file that does not
/// parse or validate is logged while the last good snapshot stays.
/// </summary>
internal sealed partial class ConfigWatcher : IDisposable
{
    private readonly ConfigStore _store;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly DebouncedWatcher _watcher;

    public ConfigWatcher(ConfigStore store, string path, ILogger<ConfigWatcher> logger, TimeSpan? debounce = null)
    {
        _store = store;
        _logger = logger;
        _path = Path.GetFullPath(path);
        _watcher = new DebouncedWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path), recursive: false,
            debounce ?? TimeSpan.FromMilliseconds(250), _ => ReloadAsync());
    }

    public Task ReloadAsync()
    {
        if (!File.Exists(_path))
        {
            LogMissing(_path);
            return Task.CompletedTask;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRejected(_path, e.Message);
            return Task.CompletedTask;
        }
        if (bytes.Length == 0) return Task.CompletedTask; // mid-write truncation; the write that follows triggers again
        var hash = ConfigLoader.Hash(bytes);
        var current = _store.Current;
        if (hash == current.Hash) return Task.CompletedTask;
        LoadedConfig next;
        try
        {
            next = ConfigLoader.Parse(System.Text.Encoding.UTF8.GetString(bytes), _path, hash, _store.BoundHost);
        }
        catch (ConfigException e)
        {
            LogRejected(_path, e.Message);
            return Task.CompletedTask;
        }
        WarnRestartOnly(current.Config, next.Config);
        foreach (var warning in next.Warnings) LogConfigWarning(warning);
        _store.Publish(next);
        LogReloaded(_path);
        return Task.CompletedTask;
    }

    private void WarnRestartOnly(ProxyConfig old, ProxyConfig next)
    {
        if (ConfigLoader.BindHost(old) != ConfigLoader.BindHost(next) || old.Port != next.Port || old.Tls.Enable != next.Tls.Enable)
            LogNeedsRestart("host, port and tls");
        if (old.Plugins.Folder != next.Plugins.Folder || !old.Plugins.Include.SequenceEqual(next.Plugins.Include) || !old.Plugins.Exclude.SequenceEqual(next.Plugins.Exclude))
            LogNeedsRestart("plugins.folder, plugins.include and plugins.exclude");
        if (old.AuthDir != next.AuthDir)
            LogNeedsRestart("auth-dir");
    }

    public void Dispose() => _watcher.Dispose();

    [LoggerMessage(LogLevel.Information, "Config reloaded from {Path}")]
    private partial void LogReloaded(string path);

    [LoggerMessage(LogLevel.Error, "Config not applied, keeping the previous one: {Reason} ({Path})")]
    private partial void LogRejected(string path, string reason);

    [LoggerMessage(LogLevel.Warning, "Config file {Path} disappeared; keeping the current config")]
    private partial void LogMissing(string path);

    [LoggerMessage(LogLevel.Warning, "{ConfigWarning}")]
    private partial void LogConfigWarning(string configWarning);

    [LoggerMessage(LogLevel.Warning, "Config: changes to {Keys} take effect after a restart")]
    private partial void LogNeedsRestart(string keys);
}
