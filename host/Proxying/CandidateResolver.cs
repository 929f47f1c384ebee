using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Models;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Proxying;

/// <summary>The credentials that may serve one request, in the registry's terms.</summary>
/// <param name="ModelId">The registry's id for the routed model (cooldowns are kept under it).</param>
/// <param name="Routes">Candidate credentials with their upstream model names.</param>
/// <param name="RoutedModel">The model after routing plugins, as text (for messages).</param>
/// <param name="PinnedProvider">A provider the route or a router fixed, else null.</param>
/// <param name="RegistryRevision">The registry snapshot the routes came from.</param>
internal sealed record Candidates(string ModelId, ImmutableArray<ModelRoute> Routes, string RoutedModel, string? PinnedProvider, long RegistryRevision);

/// <summary>
/// Resolves a request's model to candidate credentials: routing plugins first (they may rewrite the model or pin a
/// provider), then the thinking suffix, then the registry (exact id, else ignoring case; prefixes and aliases).
/// </summary>
internal sealed class CandidateResolver(ModelRegistry registry, Routing.ModelAvailability availability, PluginLogs logs)
{
    // Created once: a method group converted per request is a delegate allocated per request.
    private readonly Func<string, bool> _isAvailable = availability.IsAvailable;
    private readonly Func<string, bool> _isServed = availability.IsServed;

    /// <summary>The candidates, or null when no credential serves the model (the caller answers 404) or a router forwards the request (<see cref="ProxyRequest.Forward"/>).</summary>
    public Candidates? Resolve(ProxyRequest request, PluginSet plugins)
    {
        var (routedModel, pinned, responseModel) = ApplyRouters(request, plugins, request.ClientModel, request.Endpoint.PinnedProvider);
        request.RoutedModel = routedModel;
        request.Routed = ModelName.Parse(routedModel);
        request.ResponseModel = responseModel;
        if (request.Forward is not null) return null;
        var snapshot = registry.Current;
        var (modelId, routes) = snapshot.Resolve(request.Routed.Base);
        if (pinned is not null)
            routes = [.. routes.Where(r => string.Equals(r.Credential.Provider, pinned, StringComparison.OrdinalIgnoreCase))];
        return routes.IsEmpty ? null : new Candidates(modelId, routes, routedModel, pinned, snapshot.Revision);
    }

    private (string Model, string? Provider, string? ResponseModel) ApplyRouters(ProxyRequest request, PluginSet plugins, string model, string? provider)
    {
        if (plugins.Routers.IsEmpty) return (model, provider, null);
        var http = request.Http;
        var routeValues = Routing.RouteValueView.Of(http.Request.RouteValues);
        var headers = Routing.RoutingRequest.RouteHeaders(http.Request);
        var authHeaders = Routing.RoutingRequest.AuthHeaders(http.Request);
        var clientKey = Routing.RoutingRequest.ClientKey(http);
        var fromLoopback = Routing.RoutingRequest.FromLoopback(http);
        string? responseModel = null;
        foreach (var router in plugins.Routers)
        {
            var decision = router.Route(new PluginProxy.Abstractions.Plugins.RouteContext
            {
                Model = model,
                Path = http.Request.Path.Value ?? "",
                RouteValues = routeValues,
                Headers = headers,
                IsModelAvailable = _isAvailable,
                IsModelServed = _isServed,
                Settings = request.Config.SettingsFor(router.Id),
                Log = logs.For(router.Id),
                ClientKey = clientKey,
                FromLoopback = fromLoopback,
                AuthHeaders = authHeaders,
            });
            if (decision.Forward is { } forward)
            {
                // Served elsewhere: later routers have nothing left to decide.
                request.Forward = forward;
                request.ForwardedBy = router.Id;
                break;
            }
            model = decision.Model ?? model;
            provider = decision.Provider ?? provider;
            responseModel = decision.ResponseModel ?? responseModel;
        }
        return (model, provider, responseModel);
    }
}
