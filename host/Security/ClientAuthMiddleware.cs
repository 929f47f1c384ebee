using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Config;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Security;

/// <summary>
/// Requires a client key from <c>api-keys</c> on the API paths. With an empty list every request passes; that is only
/// allowed while the server listens on loopback (checked when the config loads). Failures answer 401 in the dialect
/// of the path, so SDKs show the message (CLIProxyAPI answers a flat <c>{"error":"..."}</c> that SDKs cannot parse).
/// </summary>
internal sealed class ClientAuthMiddleware(RequestDelegate next, ConfigStore config)
{
    private static readonly string[] ProtectedPrefixes = ["/v1", "/v1beta", "/api/provider"];

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        if (!ProtectedPrefixes.Any(p => path.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            await next(http);
            return;
        }
        var keys = config.Config.ApiKeys;
        if (keys.Count == 0)
        {
            await next(http);
            return;
        }
        var result = ClientKeys.Check(http.Request, keys);
        if (result == KeyCheck.Accepted)
        {
            await next(http);
            return;
        }
        var message = result == KeyCheck.Missing
            ? "Missing API key. Send one of the keys in api-keys as 'Authorization: Bearer <key>', 'x-api-key', 'x-goog-api-key' or '?key='."
            : "Invalid API key.";
        await ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 401, message, "invalid_api_key");
    }
}
