using System.Net.WebSockets;
using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.AIStudio.Relay;
using PluginProxy.Plugins.AIStudio.Upstream;

namespace PluginProxy.Plugins.AIStudio;

/// <summary>
/// AI Studio Build relay (provider <c>aistudio</c>): a small app in a signed-in AI Studio browser tab connects to
/// <c>/v1/ws</c> and performs the Generative Language calls the proxy hands it. Each connection is a runtime-only
/// account (<c>aistudio-&lt;16 [a-z0-9]&gt;</c>) serving <see cref="AIStudioCatalog.Models"/> while it lasts.
/// The plugin holds the live sessions (<see cref="RelayHub"/>): state that ends with the plugin, since the host cancels
/// every session of a plugin version it unloads.
/// </summary>
public sealed class AIStudioPlugin : IProviderPlugin
{
    public const string CredentialType = "aistudio";

    private readonly RelayHub _hub = new();

    public AIStudioPlugin()
    {
        SocketEndpoints =
        [
            new SocketEndpoint("/v1/ws", RunAsync)
            {
                // A ping every 30 s and its pong due within 30 s: CLIProxyAPI's 30 s heartbeat and 60 s read deadline.
                KeepAliveInterval = TimeSpan.FromSeconds(30),
                KeepAliveTimeout = TimeSpan.FromSeconds(30),
            },
        ];
    }

    public string Id => "aistudio";
    public IReadOnlyList<string> CredentialTypes { get; } = [CredentialType];
    public Dialect NativeDialect => Dialect.Gemini;
    public IReadOnlyList<ModelInfo> Models => AIStudioCatalog.Models;
    public IExecutor Executor { get; } = new AIStudioExecutor();
    public IAuthenticator? Authenticator => null;
    public IReadOnlyList<SocketEndpoint> SocketEndpoints { get; }

    /// <summary>Relay accounts are reached through their session, never over TCP.</summary>
    public HttpMessageHandler? TransportFor(CredentialRecord credential) =>
        string.Equals(credential.Type, CredentialType, StringComparison.OrdinalIgnoreCase) ? new RelayTransport(_hub, credential.Id, TimeProvider.System) : null;

    /// <summary>The connected sessions (for tests and diagnostics).</summary>
    internal RelayHub Hub => _hub;

    private static string? OwnerOf(string? clientKey) =>
        clientKey is null ? null : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(clientKey)));

    private async Task RunAsync(SocketSession connection, CancellationToken cancellationToken)
    {
        string channel;
        try
        {
            channel = ChannelId.Requested(connection.Query) ?? ChannelId.NewId();
        }
        catch (FormatException e)
        {
            await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        var session = new RelaySession(channel, connection.Socket, connection.Log, OwnerOf(connection.ClientKey));
        if (!_hub.TryInstall(session, out var replaced))
        {
            connection.Log.Warn("AI Studio relay {Channel}: refused a connection from another client asking for the same id", channel);
            await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "this id is in use by another client", cancellationToken).ConfigureAwait(false);
            return;
        }
        string reason;
        // The account exists while the session does; a reconnect with the same id takes the account over before the old
        // session ends, so the account never disappears in between.
        using (connection.Credentials.Add(new CredentialRecord
        {
            Id = channel,
            Type = CredentialType,
            Provider = CredentialType,
            Label = channel,
            Source = CredentialSource.Runtime,
            Metadata = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["email"] = channel, ["runtime_only"] = "true" }),
        }))
        {
            replaced?.End("replaced by a new connection with the same id");
            connection.Log.Info("AI Studio relay {Channel} connected{Replacing}", channel, replaced is null ? "" : " (replacing the previous connection)");
            try
            {
                reason = await session.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _hub.Remove(session);
                session.End("the session ended");
            }
        }
        connection.Log.Info("AI Studio relay {Channel} disconnected: {Reason}", channel, reason);
        if (reason.StartsWith("replaced", StringComparison.Ordinal) && connection.Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "replaced by a new connection with the same id", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // The host aborts what is left.
            }
        }
    }
}
