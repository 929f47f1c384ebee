using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Sockets;

/// <summary>Names the provider plugin that serves a socket path (host-owned strings: endpoints never reference plugin objects).</summary>
/// <param name="Plugin">The plugin folder's name.</param>
/// <param name="Provider">The provider plugin's id.</param>
/// <param name="Pattern">The <c>SocketEndpoint.Pattern</c>, as the plugin declared it.</param>
internal sealed record SocketRouteOwner(string Plugin, string Provider, string Pattern);

/// <summary>
/// The provider plugins' <c>SocketEndpoints</c> in the current <see cref="PluginSet"/> as live endpoints (GET, and
/// CONNECT for HTTP/2 WebSockets), served by <see cref="SocketEndpointHandler"/>. Rebuilt on every plugin change with a
/// change token, like <c>Routing/PluginRouteDataSource</c>, so a relay path appears and disappears with its plugin.
/// Client keys follow <c>ws-auth</c> (<see cref="ClientKeyMetadata.WebSocket"/>), not the <c>/v1</c> rule.
/// </summary>
internal sealed partial class SocketRouteDataSource : PluginEndpointDataSource
{
    /// <summary>Plugin paths lose ties against the built-in ones.</summary>
    private const int SocketRouteOrder = 1;

    private readonly SocketEndpointHandler _handler;
    private readonly ILogger _logger;

    public SocketRouteDataSource(PluginRuntime plugins, SocketEndpointHandler handler, ILogger<SocketRouteDataSource> logger) : base(plugins)
    {
        _handler = handler;
        _logger = logger;
        Rebuild();
    }

    protected override IReadOnlyList<Endpoint> Build(PluginSet set)
    {
        var endpoints = new List<Endpoint>();
        var claimed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var plugin in set.Plugins)
        {
            foreach (var provider in plugin.Providers)
            {
                foreach (var declared in SocketEndpointHandler.Read(provider, e => LogEndpointsFailed(e, provider.Id)))
                {
                    var owner = new SocketRouteOwner(plugin.Name, provider.Id, declared.Pattern);
                    if (Parse(owner) is not { } pattern) continue;
                    var key = "/" + declared.Pattern.Trim().Trim('/');
                    if (!claimed.TryAdd(key, provider.Id))
                    {
                        LogBadRoute(provider.Id, declared.Pattern, $"'{claimed[key]}' already serves this path");
                        continue;
                    }
                    endpoints.Add(new RouteEndpoint(http => _handler.HandleAsync(http, owner), pattern, SocketRouteOrder,
                        new EndpointMetadataCollection(new HttpMethodMetadata(["GET", "CONNECT"]), ClientKeyMetadata.WebSocket, owner),
                        $"{provider.Id}: WebSocket {declared.Pattern}"));
                }
            }
        }
        return endpoints;
    }

    private RoutePattern? Parse(SocketRouteOwner owner)
    {
        if (string.IsNullOrWhiteSpace(owner.Pattern) || owner.Pattern.Trim() == "/")
        {
            LogBadRoute(owner.Provider, owner.Pattern ?? "", "an empty pattern would take over the root");
            return null;
        }
        try
        {
            return RoutePatternFactory.Parse(owner.Pattern);
        }
        catch (Exception e) when (e is RoutePatternException or ArgumentException)
        {
            LogBadRoute(owner.Provider, owner.Pattern, e.Message);
            return null;
        }
    }


    [LoggerMessage(LogLevel.Warning, "Provider plugin {Provider}: WebSocket path {Pattern} ignored: {Reason}")]
    private partial void LogBadRoute(string provider, string pattern, string reason);

    [LoggerMessage(LogLevel.Error, "Provider plugin {Provider}: reading its SocketEndpoints failed; it serves none")]
    private partial void LogEndpointsFailed(Exception exception, string provider);
}
