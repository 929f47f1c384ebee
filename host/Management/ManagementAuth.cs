using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Management;

/// <summary>
/// The gate in front of every management endpoint, in this order: a bare 404 while <c>remote-management.secret-key</c>
/// is empty (the API does not exist); 403 for an address locked out after <see cref="ManagementLockout.MaxFailures"/>
/// failures; 403 for a remote peer without <c>allow-remote</c>; 401 for a missing or wrong key
/// (<c>Authorization: Bearer</c> or <c>X-Management-Key</c>). "Remote" is the socket's peer address: forwarding headers
/// are never consulted (and the server installs no forwarded-headers middleware that could rewrite it).
/// </summary>
internal sealed class ManagementAuth(ConfigStore config, ManagementLockout lockout) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = config.Config.RemoteManagement;
        if (string.IsNullOrEmpty(settings.SecretKey)) return Results.NotFound();
        var peer = http.Connection.RemoteIpAddress;
        var address = peer?.ToString() ?? "unknown";
        if (lockout.BannedFor(address) is { } left)
            return Reply.Error(403, $"IP banned due to too many failed attempts. Try again in {Describe(left)}");
        var local = peer is not null && IPAddress.IsLoopback(peer);
        if (!local && !settings.AllowRemote) return Reply.Error(403, "remote management disabled");
        var presented = PresentedKey(http.Request);
        if (string.IsNullOrEmpty(presented))
        {
            lockout.Failed(address);
            return Reply.Error(401, "missing management key");
        }
        if (!ManagementSecret.Verify(presented, settings.SecretKey))
        {
            lockout.Failed(address);
            return Reply.Error(401, "invalid management key");
        }
        lockout.Succeeded(address);
        return await next(context);
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
            return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : authorization.Trim();
        var header = request.Headers["X-Management-Key"].ToString();
        return header.Length > 0 ? header.Trim() : null;
    }

    private static string Describe(TimeSpan left) =>
        left.TotalMinutes >= 1
            ? $"{Math.Ceiling(left.TotalMinutes).ToString(CultureInfo.InvariantCulture)}m"
            : $"{Math.Ceiling(left.TotalSeconds).ToString(CultureInfo.InvariantCulture)}s";
}
