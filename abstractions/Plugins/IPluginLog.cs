namespace PluginProxy.Abstractions.Plugins;

/// <summary>Logging for plugins. Messages are templates with named holes (<c>"refreshed {Label}"</c>); never pass secrets.</summary>
public interface IPluginLog
{
    void Debug(string template, params object?[] args);
    void Info(string template, params object?[] args);
    void Warn(string template, params object?[] args);
    void Error(Exception? exception, string template, params object?[] args);
}
