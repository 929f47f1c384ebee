using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Endpoints;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Routing;

/// <summary>Names the routing plugin that owns a plugin route (host-owned strings: endpoints never reference plugin objects).</summary>
/// <param name="Plugin">The plugin folder's name.</param>
/// <param name="Router">The routing plugin's id.</param>
internal sealed record PluginRouteOwner(string Plugin, string Router);

/// <summary>
/// The routes of the routing plugins in the current <see cref="PluginSet"/>: each <see cref="RouteAlias"/> served by the
/// built-in endpoint it names, each <see cref="ForwardingRoute"/> by the <see cref="ForwardingHandler"/>. Rebuilt on every
/// plugin change, and the change token fires so ASP.NET's matcher picks the new table up without a restart (as YARP's
/// ProxyConfigManager does for its config). Route records are copied into host-owned objects when a set is published,
/// so the matcher's caches never keep an unloaded plugin's context alive.
/// </summary>
internal sealed partial class PluginRouteDataSource : PluginEndpointDataSource
{
    /// <summary>Plugin routes lose ties against the built-in ones (same path and method).</summary>
    private const int PluginRouteOrder = 1;

    private const string AnyMethod = "*";

    private readonly ForwardingHandler _forwarder;
    private readonly ILogger _logger;

    public PluginRouteDataSource(PluginRuntime plugins, ForwardingHandler forwarder, ILogger<PluginRouteDataSource> logger) : base(plugins)
    {
        _forwarder = forwarder;
        _logger = logger;
        Rebuild();
    }

    protected override IReadOnlyList<Endpoint> Build(PluginSet set)
    {
        var endpoints = new List<Endpoint>();
        var claimed = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        // Routers in the set's order (Order, then id), so the first claimant of a path keeps it whatever the folder order.
        foreach (var router in set.Routers)
        {
            var plugin = set.Plugins.First(p => p.Routers.Any(r => ReferenceEquals(r, router)));
            var owner = new PluginRouteOwner(plugin.Name, router.Id);
            foreach (var alias in Read(owner, () => router.Routes))
            {
                var method = (alias.Method ?? "").Trim().ToUpperInvariant();
                if (Handler(alias.Target) is not { } handler)
                {
                    LogBadRoute(owner.Router, alias.Pattern, $"unknown target {alias.Target}");
                    continue;
                }
                if (method.Length == 0 || Parse(owner, alias.Pattern) is not { } pattern || !Claim(claimed, owner, method, alias.Pattern)) continue;
                endpoints.Add(new RouteEndpoint(handler, pattern, PluginRouteOrder,
                    new EndpointMetadataCollection(new HttpMethodMetadata([method]), ClientKeyMetadata.Enforced, owner),
                    $"{owner.Router}: {method} {alias.Pattern} -> {alias.Target}"));
            }
            foreach (var route in Read(owner, () => router.ForwardingRoutes))
            {
                if (Parse(owner, route.Pattern) is not { } pattern || !Claim(claimed, owner, AnyMethod, route.Pattern)) continue;
                var target = new ForwardingTarget(owner, route.Name ?? route.Pattern);
                endpoints.Add(new RouteEndpoint(http => _forwarder.HandleAsync(http, target), pattern, PluginRouteOrder,
                    new EndpointMetadataCollection(ClientKeyMetadata.Identify, owner, target),
                    $"{owner.Router}: forward {target.Route} {route.Pattern}"));
            }
        }
        return endpoints;
    }

    private static RequestDelegate? Handler(EndpointKind kind) => InferenceEndpoints.Handler(kind) ?? ModelEndpoints.Handler(kind);

    /// <summary>Copies a router's route list into host-owned records (the list itself may be a type from the plugin's assembly).</summary>
    private List<T> Read<T>(PluginRouteOwner owner, Func<IReadOnlyList<T>?> routes) where T : class
    {
        try
        {
            return [.. (routes() ?? []).Where(r => r is not null)];
        }
        catch (Exception e)
        {
            LogRoutesFailed(e, owner.Router);
            return [];
        }
    }

    private RoutePattern? Parse(PluginRouteOwner owner, string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Trim() == "/")
        {
            LogBadRoute(owner.Router, pattern ?? "", "an empty pattern would take over the root");
            return null;
        }
        try
        {
            return RoutePatternFactory.Parse(pattern ?? "");
        }
        catch (Exception e) when (e is RoutePatternException or ArgumentException)
        {
            LogBadRoute(owner.Router, pattern ?? "", e.Message);
            return null;
        }
    }

    // Two plugin routes on the same path and method (or one for any method) would make each such request ambiguous: the first keeps it.
    private bool Claim(Dictionary<string, HashSet<string>> claimed, PluginRouteOwner owner, string method, string pattern)
    {
        var key = "/" + pattern.Trim().Trim('/');
        if (!claimed.TryGetValue(key, out var methods)) claimed[key] = methods = [];
        if (!methods.Contains(AnyMethod) && (method == AnyMethod ? methods.Count == 0 : !methods.Contains(method)))
        {
            methods.Add(method);
            return true;
        }
        LogBadRoute(owner.Router, pattern, "another routing plugin already serves this path");
        return false;
    }


    [LoggerMessage(LogLevel.Warning, "Routing plugin {Router}: route {Pattern} ignored: {Reason}")]
    private partial void LogBadRoute(string router, string pattern, string reason);

    [LoggerMessage(LogLevel.Error, "Routing plugin {Router}: reading its routes failed; it serves none")]
    private partial void LogRoutesFailed(Exception exception, string router);
}
