namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// The version of the plugin contract. The host reads the version of <c>PluginProxy.Abstractions</c> (and of
/// <c>PluginProxy.Sdk</c>) that a plugin was compiled against and refuses the plugin at load, with a message that says
/// why, when the major versions differ or the plugin was built against a newer minor than the host has.
/// Bump <see cref="Major"/> for a breaking change (a member removed or its signature changed), <see cref="Minor"/>
/// for an addition. Keep it equal to the assembly version in <c>PluginProxy.Abstractions.csproj</c>.
/// </summary>
public static class PluginContract
{
    public const int Major = 2;
    public const int Minor = 2;
}
