using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace PluginProxy.Host.Sockets;

/// <summary>Registers and maps the provider plugins' live WebSocket endpoints.</summary>
internal static class SocketRoutes
{
    public static IServiceCollection AddSocketEndpoints(this IServiceCollection services) =>
        services.AddSingleton<SocketSessions>().AddSingleton<SocketEndpointHandler>().AddSingleton<SocketRouteDataSource>();

    /// <summary>Adds the WebSocket middleware (upgrades) and the endpoints; call before the other endpoint mappings' data sources matter.</summary>
    public static void MapSocketEndpoints(this WebApplication app)
    {
        app.UseWebSockets();
        app.Services.GetRequiredService<SocketSessions>(); // created now: it must see every config change and the stop
        ((IEndpointRouteBuilder)app).DataSources.Add(app.Services.GetRequiredService<SocketRouteDataSource>());
    }
}
