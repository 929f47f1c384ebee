namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// Anything a plugin assembly exposes. The host instantiates every public, non-abstract type implementing
/// <see cref="IProviderPlugin"/> or <see cref="IRoutingPlugin"/> with a public parameterless constructor.
/// Instances must be stateless or hold only immutable state: the host may drop them at any time on a swap.
/// </summary>
public interface IPlugin
{
    /// <summary>Stable id, lower case (<c>claude</c>, <c>gemini-cli</c>, <c>amp</c>, ...).</summary>
    string Id { get; }
}
