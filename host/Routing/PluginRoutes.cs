using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace PluginProxy.Host.Routing;

/// <summary>Registers and maps the routing plugins' live routes.</summary>
internal static class PluginRoutes
{
    public static IServiceCollection AddPluginRoutes(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        return services.AddSingleton<ForwardingClients>().AddSingleton<ForwardingHandler>().AddSingleton<PluginRouteDataSource>()
            .AddSingleton<ModelAvailability>();
    }

    public static void MapPluginRoutes(this IEndpointRouteBuilder app) =>
        app.DataSources.Add(app.ServiceProvider.GetRequiredService<PluginRouteDataSource>());
}
