using System.Net;
using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Routing;

/// <summary>What routing plugins are told about the client's request.</summary>
internal static class RoutingRequest
{
    /// <summary>The request's headers for <c>RouteContext.Headers</c>: the client's auth headers are left out (values of a repeated header joined with commas). A view, not a copy.</summary>
    public static IReadOnlyDictionary<string, string> RouteHeaders(HttpRequest request) => new HeaderView(request.Headers, HeaderView.Part.WithoutAuth);

    /// <summary>All the request's headers, auth headers included (<c>ForwardingContext.Headers</c>: a router may map the client's key).</summary>
    public static IReadOnlyDictionary<string, string> AllHeaders(HttpRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers) headers[name] = value.ToString();
        return headers;
    }

    /// <summary>Only the client's auth headers (<c>RouteContext.AuthHeaders</c>, for a router that forwards the request).</summary>
    public static IReadOnlyDictionary<string, string> AuthHeaders(HttpRequest request) => new HeaderView(request.Headers, HeaderView.Part.OnlyAuth);

    /// <summary>The client key the request was authenticated with (<see cref="ClientAuthMiddleware"/>), or null.</summary>
    public static string? ClientKey(HttpContext http) => http.Features.Get<ClientKeyFeature>()?.Key;

    /// <summary>True when the TCP peer is this machine. From the socket only: forwarding headers (X-Forwarded-For) are client-controlled.</summary>
    public static bool FromLoopback(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return IPAddress.IsLoopback(address);
    }
}
