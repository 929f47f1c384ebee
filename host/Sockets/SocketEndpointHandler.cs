using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Proxying;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Sockets;

/// <summary>
/// Serves one connection to a plugin's <see cref="SocketEndpoint"/>: refuses requests that are not WebSocket upgrades
/// (426), accepts the upgrade with the endpoint's keep-alive, and runs the plugin's <c>RunAsync</c> for the life of the
/// connection with a <see cref="SocketSession"/> whose runtime credentials are withdrawn when it ends. The plugin set is
/// leased for the whole session; <see cref="SocketSessions"/> cancels it when the plugin leaves the set.
/// (Client keys were checked by <see cref="ClientAuthMiddleware"/> according to <c>ws-auth</c>.)
/// </summary>
internal sealed partial class SocketEndpointHandler(
    PluginRuntime plugins,
    ConfigStore config,
    CredentialStore credentials,
    SocketSessions sessions,
    PluginLogs pluginLogs,
    TimeProvider clock,
    ILogger<SocketEndpointHandler> logger)
{
    private static readonly string[] AuthHeaders = ["authorization", "x-api-key", "x-goog-api-key"];
    private static readonly string[] AuthQuery = ["key", "auth_token"];
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = logger;

    public async Task HandleAsync(HttpContext http, SocketRouteOwner owner)
    {
        var path = http.Request.Path.Value ?? "";
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.Headers.Upgrade = "websocket";
            http.Response.Headers.Connection = "Upgrade";
            await ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 426,
                $"{path} is a WebSocket endpoint ({owner.Provider}): connect with a WebSocket client (GET with 'Upgrade: websocket').");
            return;
        }
        using var lease = plugins.Acquire();
        var plugin = lease.Set.Plugins.FirstOrDefault(p => p.Name == owner.Plugin && p.Providers.Any(pr => pr.Id == owner.Provider));
        var provider = plugin?.Providers.First(p => p.Id == owner.Provider);
        var endpoint = provider is null ? null : Read(provider, e => LogRunFailed(e, owner.Provider)).FirstOrDefault(e => e.Pattern == owner.Pattern);
        if (plugin is null || provider is null || endpoint is null)
        {
            // The plugin was swapped between routing and now; its replacement's table is being published.
            await ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 503, $"{path} is being reloaded; connect again.");
            return;
        }
        var clientKey = http.Features.Get<ClientKeyFeature>()?.Key;
        var live = sessions.Register(plugin, provider.Id, clientKey);
        if (live is null)
        {
            await ErrorWriter.WriteAsync(http, ClientDialect.ForPath(path), 503, "The server is stopping.");
            return;
        }
        var runtime = new SessionCredentials(credentials, provider.Id, [.. provider.CredentialTypes]);
        WebSocket? socket = null;
        try
        {
            socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = endpoint.KeepAliveInterval,
                KeepAliveTimeout = endpoint.KeepAliveTimeout,
            });
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, live.Token);
            var session = new SocketSession
            {
                Socket = socket,
                ClientKey = clientKey,
                Query = http.Request.Query.Where(q => !AuthQuery.Contains(q.Key, StringComparer.OrdinalIgnoreCase))
                    .ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
                Headers = http.Request.Headers.Where(h => !AuthHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
                    .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                Credentials = runtime,
                Log = pluginLogs.For(provider.Id),
                Settings = config.Current.SettingsFor(provider.Id),
                Clock = clock,
            };
            LogAccepted(provider.Id, path, clientKey is not null);
            try
            {
                await endpoint.RunAsync(session, cancel.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException && cancel.IsCancellationRequested)
            {
                // Ended by the host or the peer.
            }
            catch (Exception e)
            {
                LogRunFailed(e, provider.Id);
            }
        }
        finally
        {
            runtime.End();
            sessions.Unregister(live);
            if (socket is not null) await CloseAsync(socket, live.Reason);
            LogEnded(provider.Id, path, live.Reason ?? "closed");
            live.Dispose();
            socket?.Dispose();
        }
    }

    /// <summary>The provider's socket endpoints, copied (the getter is plugin code and may throw).</summary>
    internal static List<SocketEndpoint> Read(IProviderPlugin provider, Action<Exception> failed)
    {
        try
        {
            return [.. (provider.SocketEndpoints ?? []).Where(e => e is not null && !string.IsNullOrWhiteSpace(e.Pattern) && e.RunAsync is not null)];
        }
        catch (Exception e)
        {
            failed(e);
            return [];
        }
    }

    // Says why when the host ended it (ws-auth, plugin swap, stop); never waits long for a peer that does not answer.
    private static async Task CloseAsync(WebSocket socket, string? reason)
    {
        // Closed by the plugin already (CloseSent, Closed) or broken (Aborted): an abort now could drop a close frame still in flight.
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            var status = reason is null ? WebSocketCloseStatus.NormalClosure
                : reason.StartsWith("ws-auth", StringComparison.Ordinal) || reason.Contains("revoked", StringComparison.Ordinal) ? WebSocketCloseStatus.PolicyViolation
                : WebSocketCloseStatus.EndpointUnavailable;
            await socket.CloseOutputAsync(status, Truncate(reason ?? "session ended"), timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    // A close reason is at most 123 UTF-8 bytes.
    private static string Truncate(string reason) => reason.Length <= 120 ? reason : reason[..120];

    [LoggerMessage(LogLevel.Information, "WebSocket session of {Provider} accepted on {Path} (client key: {WithKey})")]
    private partial void LogAccepted(string provider, string path, bool withKey);

    [LoggerMessage(LogLevel.Information, "WebSocket session of {Provider} on {Path} ended ({Reason})")]
    private partial void LogEnded(string provider, string path, string reason);

    [LoggerMessage(LogLevel.Error, "Provider plugin {Provider}: its WebSocket session failed")]
    private partial void LogRunFailed(Exception exception, string provider);
}
