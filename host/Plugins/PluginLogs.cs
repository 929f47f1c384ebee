using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Plugins;

/// <summary>One <see cref="PluginLog"/> per plugin id (category <c>Plugin.&lt;id&gt;</c>), shared by every place that calls plugin code.</summary>
internal sealed class PluginLogs(ILoggerFactory loggerFactory)
{
    private readonly ConcurrentDictionary<string, PluginLog> _logs = new(StringComparer.Ordinal);

    // Called per request: the lookup allocates nothing once the plugin's log exists.
    public PluginLog For(string pluginId) =>
        _logs.TryGetValue(pluginId, out var log) ? log : _logs.GetOrAdd(pluginId, id => new PluginLog(loggerFactory.CreateLogger("Plugin." + id)));
}
