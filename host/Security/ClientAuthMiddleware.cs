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

    // The key bytes of the config snapshot they were computed from; replaced when a reload brings a new list.
    private sealed record KeyCache(List<string> Source, byte[][] Bytes);

    private KeyCache _keys = new([], []);

    // Not async: every request passes here, and returning the next Task directly costs no state machine.
    public Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        // Plugin routes carry their policy as endpoint metadata (routing runs before this middleware).
        var policy = http.GetEndpoint()?.Metadata.GetMetadata<ClientKeyMetadata>();
        var required = policy?.FollowsWsAuth == true
            ? config.Config.WsAuth // plugin WebSockets (/v1/ws) follow ws-auth, not the /v1 rule, as in CLIProxyAPI
            : IsProtected(path) || policy?.Required == true;
        var keys = config.Config.ApiKeys;
        if (!required)
        {
            if (policy is not null && keys.Count > 0) Check(http, keys); // identify only: the plugin decides what a missing key means
            return next(http);
        }
        if (keys.Count == 0)
        {
            // Config validation never lets this happen on a public bind; checked again here because an open proxy is the worst outcome.
            if (ConfigLoader.IsLoopback(config.BoundHost)) return next(http);
            return ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 401, "No client keys are configured (api-keys) on a public address; requests are refused.", "invalid_api_key");
        }
        var result = Check(http, keys);
        if (result == KeyCheck.Accepted) return next(http);
        var message = result == KeyCheck.Missing
            ? "Missing API key. Send one of the keys in api-keys as 'Authorization: Bearer <key>', 'x-api-key', 'x-goog-api-key' or '?key='."
            : "Invalid API key.";
        return ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 401, message, "invalid_api_key");
    }

    private static bool IsProtected(string path)
    {
        foreach (var prefix in ProtectedPrefixes)
            if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Checks the presented key; an accepted one is recorded as the request's <see cref="ClientKeyFeature"/>.</summary>
    private KeyCheck Check(HttpContext http, List<string> keys)
    {
        var cached = Volatile.Read(ref _keys);
        if (!ReferenceEquals(cached.Source, keys)) Volatile.Write(ref _keys, cached = new KeyCache(keys, ClientKeys.Encode(keys)));
        var result = ClientKeys.Check(http.Request, cached.Bytes, out var presented);
        if (result == KeyCheck.Accepted) http.Features.Set(new ClientKeyFeature(presented!));
        return result;
    }
}
