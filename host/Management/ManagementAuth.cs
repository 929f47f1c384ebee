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
    private readonly SemaphoreSlim _bcrypt = new(2, 2);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = config.Config.RemoteManagement;
        // A key bcrypt cannot hash whole leaves the API off (logged at startup and on reload).
        if (string.IsNullOrEmpty(settings.SecretKey) || ManagementSecret.TooLong(settings.SecretKey)) return Results.NotFound();
        var peer = http.Connection.RemoteIpAddress;
        var address = peer?.ToString() ?? "unknown";
        if (lockout.BannedFor(address) is not null) return Banned(address);
        var local = peer is not null && IPAddress.IsLoopback(peer);
        if (!local && !settings.AllowRemote) return Reply.Error(403, "remote management disabled");
        var presented = PresentedKey(http.Request);
        // No key is not a guess: a web page can make a browser send key-less requests to 127.0.0.1, and counting
        // them would let it lock the admin out.
        if (string.IsNullOrEmpty(presented)) return Reply.Error(401, "missing management key");
        if (ManagementSecret.VerifyCheap(presented, settings.SecretKey) is { } cheap)
        {
            if (cheap)
            {
                lockout.Succeeded(address);
                return await next(context);
            }
            if (!lockout.TryAttempt(address)) return Banned(address);
            return Reply.Error(401, "invalid management key");
        }
        // bcrypt is slow on purpose: a couple at a time, and a busy answer rather than a queue.
        if (!_bcrypt.Wait(0)) return Reply.Error(503, "management key check busy, try again");
        bool ok;
        try
        {
            // Counted before the check finishes, so parallel guesses cannot exceed the limit; a success clears it.
            if (!lockout.TryAttempt(address)) return Banned(address);
            ok = ManagementSecret.Verify(presented, settings.SecretKey);
        }
        finally
        {
            _bcrypt.Release();
        }
        if (!ok) return Reply.Error(401, "invalid management key");
        lockout.Succeeded(address);
        return await next(context);
    }

    private Reply Banned(string address) =>
        Reply.Error(403, $"IP banned due to too many failed attempts. Try again in {Describe(lockout.BannedFor(address) ?? ManagementLockout.BanDuration)}");

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
