using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Host.Plugins;

/// <summary>Routes a plugin's log calls into the host's logging (and so through secret redaction).</summary>
internal sealed class PluginLog(ILogger logger) : IPluginLog
{
#pragma warning disable CA2254 // Plugins pass their own message templates.
    public void Debug(string template, params object?[] args) => logger.LogDebug(template, args);
    public void Info(string template, params object?[] args) => logger.LogInformation(template, args);
    public void Warn(string template, params object?[] args) => logger.LogWarning(template, args);
    public void Error(Exception? exception, string template, params object?[] args) => logger.LogError(exception, template, args);
#pragma warning restore CA2254
}
