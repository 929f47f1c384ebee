using System.Reflection;
using System.Text.Json;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Tests.Plugins.Qwen;

/// <summary>
/// The Qwen and iFlow plugins as built and deployed next to the tests (build/Plugins.targets), instantiated in the
/// default load context so their authenticators can be driven directly through the contract.
/// </summary>
internal static class BuiltPlugins
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "plugins");

    private static readonly Lazy<IProviderPlugin> QwenPlugin = new(() => Load("PluginProxy.Plugins.Qwen", "PluginProxy.Plugins.Qwen.QwenPlugin"));
    private static readonly Lazy<IProviderPlugin> IFlowPlugin = new(() => Load("PluginProxy.Plugins.IFlow", "PluginProxy.Plugins.IFlow.IFlowPlugin"));

    public static IProviderPlugin Qwen => QwenPlugin.Value;
    public static IProviderPlugin IFlow => IFlowPlugin.Value;

    private static IProviderPlugin Load(string assembly, string type)
    {
        // LoadFrom resolves the plugin's own dependencies (the tokenizer) from its folder.
        var loaded = Assembly.LoadFrom(Path.Combine(Folder, assembly, assembly + ".dll"));
        return (IProviderPlugin)Activator.CreateInstance(loaded.GetType(type, throwOnError: true)!)!;
    }

    /// <summary>A <c>providers.&lt;id&gt;</c> block.</summary>
    public static PluginSettings Settings(object values) =>
        new(JsonSerializer.SerializeToElement(values), default);

    /// <summary>Settings from key/value pairs (YAML keys have dashes).</summary>
    public static PluginSettings Settings(params (string Key, string Value)[] values) =>
        Settings(values.ToDictionary(v => v.Key, v => v.Value));
}
