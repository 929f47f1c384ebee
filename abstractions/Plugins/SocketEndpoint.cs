using System.Net.WebSockets;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// Contract 2.2: a path on which a provider plugin accepts WebSocket connections (<c>GET</c> with an upgrade), for
/// upstreams that come to the proxy rather than the other way round (the AI Studio relay on <c>/v1/ws</c>). The host
/// maps the path while the plugin is loaded, checks client keys when <c>ws-auth: true</c>, accepts the upgrade and runs
/// <see cref="RunAsync"/> for the life of the connection; returning (or throwing) closes it.
/// </summary>
/// <param name="Pattern">ASP.NET route pattern, for example <c>/v1/ws</c>.</param>
public sealed record SocketEndpoint(string Pattern, Func<SocketSession, CancellationToken, Task> RunAsync)
{
    /// <summary>How often the host's WebSocket sends a ping (a browser answers with a pong by itself); zero or infinite: never.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long after a ping the pong may take before the host aborts the connection (a dead peer then fails the pending
    /// <c>ReceiveAsync</c>); zero or infinite: no deadline. Pongs are only read while a receive is pending, so a session
    /// with a deadline must keep one pending (read continuously).
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = Timeout.InfiniteTimeSpan;
}

/// <summary>
/// One accepted connection. The cancellation token given to <see cref="SocketEndpoint.RunAsync"/> fires when the server
/// stops, when the plugin is removed or replaced, and when the session loses its authorization (<c>ws-auth</c> turned on
/// while it is connected without a client key); the plugin then ends the session and fails what it has in flight.
/// </summary>
public sealed class SocketSession
{
    public required WebSocket Socket { get; init; }
    /// <summary>The client key the upgrade request was authenticated with; null when <c>ws-auth</c> was off and none was sent.</summary>
    public string? ClientKey { get; init; }
    /// <summary>The upgrade request's query parameters (auth parameters removed).</summary>
    public IReadOnlyDictionary<string, string> Query { get; init; } = new Dictionary<string, string>();
    /// <summary>The upgrade request's headers (auth headers removed).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>Accounts that exist only while this session lasts.</summary>
    public required IRuntimeCredentials Credentials { get; init; }
    public required IPluginLog Log { get; init; }
    /// <summary>The plugin's <c>providers.&lt;id&gt;</c> settings when the connection was accepted.</summary>
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Contract 2.2: upstream accounts held in memory only (never written to <c>auth-dir</c>), such as one per connected relay
/// session. They are listed, scheduled, balanced and cooled like file and config credentials.
/// </summary>
public interface IRuntimeCredentials
{
    /// <summary>
    /// Publishes <paramref name="credential"/> (its <see cref="CredentialRecord.Type"/> must be one of the plugin's
    /// credential types; <see cref="CredentialRecord.Source"/> is set to <see cref="CredentialSource.Runtime"/>). A credential
    /// with the same id replaces the earlier one. Disposing the handle withdraws it, unless a later <c>Add</c> with the
    /// same id has replaced it; the host withdraws whatever a session added when the session ends.
    /// </summary>
    IDisposable Add(CredentialRecord credential);
}
