using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Sockets;

/// <summary>
/// The host side of plugin WebSocket endpoints with a test plugin: live paths, <c>ws-auth</c> (including switching it on
/// and revoking keys at runtime), runtime credentials that are scheduled like any other and withdrawn with their session,
/// the transport seam keeping the host's per-attempt concerns, and sessions ended by plugin removal and server stop.
/// </summary>
public sealed class SocketEndpointTests
{
    private const string Key = "sock-client-key";
    private const string OtherKey = "sock-other-key";
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20); // hang guard, not a timing assertion

    private static Task<TestServer> StartAsync(bool wsAuth, params string[] keys) =>
        TestServer.StartAsync(Config(wsAuth, keys), root => TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), TestSocketPlugin.Name, TestSocketPlugin.Compile()),
            clientKey: keys.FirstOrDefault());

    private static string Config(bool wsAuth, params string[] keys) => $"""
        ws-auth: {(wsAuth ? "true" : "false")}
        {(keys.Length == 0 ? "" : "api-keys: [" + string.Join(", ", keys.Select(k => "\"" + k + "\"")) + "]")}
        payload:
          override:
            - models: [{"{"}name: "sock-*"{"}"}]
              params: {"{"}"temperature": 0.25{"}"}
        """;

    private static string[] RuntimeIds(TestServer server) =>
        [.. server.Server.Credentials.Current.All.Where(c => c.Source == CredentialSource.Runtime).Select(c => c.Id)];

    // The credential store publishes before the model registry is rebuilt from it: a withdrawn credential can be gone
    // from RuntimeIds while the router still sends the model to it, so what a request will meet is read from the registry.
    private static bool Routed(TestServer server) =>
        server.Server.Services.GetRequiredService<ModelRegistry>().Current.Routes.ContainsKey(TestSocketPlugin.Model);

    private sealed class Client(ClientWebSocket socket) : IAsyncDisposable
    {
        public ClientWebSocket Socket { get; } = socket;

        public static async Task<Client> ConnectAsync(TestServer server, string? query = null, string? bearer = null)
        {
            var socket = new ClientWebSocket();
            if (bearer is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
            using var guard = new CancellationTokenSource(Guard);
            await socket.ConnectAsync(new UriBuilder(server.Address) { Scheme = "ws", Path = TestSocketPlugin.Path, Query = query ?? "" }.Uri, guard.Token);
            return new Client(socket);
        }

        /// <summary>The next text frame, or null when the server closed or the connection broke.</summary>
        public async Task<string?> ReceiveAsync()
        {
            var buffer = new byte[4096];
            using var guard = new CancellationTokenSource(Guard);
            try
            {
                var result = await Socket.ReceiveAsync(buffer, guard.Token);
                return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer, 0, result.Count);
            }
            catch (WebSocketException)
            {
                return null;
            }
        }

        public async Task<string?> AskAsync(string text)
        {
            await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            return await ReceiveAsync();
        }

        public ValueTask DisposeAsync()
        {
            Socket.Abort();
            Socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<string?> ChatAsync(TestServer server)
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", $$"""{"model":"{{TestSocketPlugin.Model}}","messages":[{"role":"user","content":"hi"}]}""");
        if (response.StatusCode != HttpStatusCode.OK) return "HTTP " + (int)response.StatusCode;
        return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"];
    }

    [Fact]
    public async Task A_plain_get_on_a_socket_path_is_told_to_upgrade()
    {
        await using var server = await StartAsync(wsAuth: false);
        using var response = await server.Client.GetAsync(TestSocketPlugin.Path);
        Assert.Equal(426, (int)response.StatusCode);
        Assert.Contains("websocket", response.Headers.Upgrade.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_sessions_runtime_credential_serves_requests_through_the_plugins_transport_with_the_hosts_concerns_and_leaves_with_it()
    {
        await using var server = await StartAsync(wsAuth: false);
        Assert.Equal("HTTP 404", await ChatAsync(server));
        var client = await Client.ConnectAsync(server, "id=sock-a");
        Assert.StartsWith("hello", await client.ReceiveAsync());
        Assert.Equal(["sock-a"], RuntimeIds(server));

        // Served although sock.invalid does not exist: the plugin's transport answered, inside the host's payload rules.
        Assert.Equal("via transport sock-a temperature=0.25 header=", await ChatAsync(server));
        Assert.Empty(Directory.GetFiles(server.AuthDir));

        Assert.StartsWith("refused: Credential type 'not-mine'", await client.AskAsync("bad-type"));

        await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await TestServer.EventuallyAsync(() => Task.FromResult(RuntimeIds(server).Length == 0 && !Routed(server)), "the credential is withdrawn");
        Assert.Equal("HTTP 404", await ChatAsync(server));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task With_ws_auth_off_a_v1_socket_path_needs_no_key_but_records_a_valid_one_and_hides_it_from_the_plugin()
    {
        await using var server = await StartAsync(wsAuth: false, Key);
        await using var anonymous = await Client.ConnectAsync(server);
        Assert.Equal("hello key=- query= auth-header=no", await anonymous.ReceiveAsync());
        await using var keyed = await Client.ConnectAsync(server, $"key={Key}&id=sock-k");
        Assert.Equal($"hello key={Key} query=id auth-header=no", await keyed.ReceiveAsync());
        using var plain = new HttpClient { BaseAddress = server.Address };
        using var api = await plain.GetAsync("/v1/models");
        Assert.Equal(401, (int)api.StatusCode); // the rest of /v1 still needs a key
    }

    [Fact]
    public async Task With_ws_auth_on_the_upgrade_needs_a_client_key()
    {
        await using var server = await StartAsync(wsAuth: true, Key);
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => Client.ConnectAsync(server));
        Assert.Contains("401", refused.Message);
        await Assert.ThrowsAsync<WebSocketException>(() => Client.ConnectAsync(server, bearer: "wrong-key"));
        Assert.Empty(RuntimeIds(server));

        await using var client = await Client.ConnectAsync(server, bearer: Key);
        Assert.Equal($"hello key={Key} query= auth-header=no", await client.ReceiveAsync());
        Assert.Equal("echo ping", await client.AskAsync("ping"));
    }

    [Fact]
    public async Task Turning_ws_auth_on_at_runtime_drops_the_sessions_without_a_key_and_keeps_the_others()
    {
        await using var server = await StartAsync(wsAuth: false, Key);
        await using var anonymous = await Client.ConnectAsync(server, "id=sock-anon");
        await using var keyed = await Client.ConnectAsync(server, "id=sock-keyed", bearer: Key);
        await anonymous.ReceiveAsync();
        await keyed.ReceiveAsync();
        Assert.Equal(["sock-anon", "sock-keyed"], RuntimeIds(server));

        await server.WriteConfigAsync(Config(wsAuth: true, Key));

        Assert.Null(await anonymous.ReceiveAsync()); // ended, not hanging (this plugin reads with the token, so no close frame)
        await TestServer.EventuallyAsync(() => Task.FromResult(RuntimeIds(server).SequenceEqual(["sock-keyed"])), "the anonymous session's credential is withdrawn");
        Assert.Equal("echo still here", await keyed.AskAsync("still here"));
    }

    [Fact]
    public async Task Removing_a_key_from_api_keys_drops_the_sessions_it_opened()
    {
        await using var server = await StartAsync(wsAuth: true, Key, OtherKey);
        await using var first = await Client.ConnectAsync(server, "id=sock-1", bearer: Key);
        await using var second = await Client.ConnectAsync(server, "id=sock-2", bearer: OtherKey);
        await first.ReceiveAsync();
        await second.ReceiveAsync();

        await server.WriteConfigAsync(Config(wsAuth: true, Key));

        Assert.Null(await second.ReceiveAsync());
        Assert.Equal("echo ok", await first.AskAsync("ok"));
        await TestServer.EventuallyAsync(() => Task.FromResult(RuntimeIds(server).SequenceEqual(["sock-1"])), "the revoked session's credential is withdrawn");
    }

    [Fact]
    public async Task Removing_the_plugin_ends_its_sessions_withdraws_their_credentials_and_its_path()
    {
        await using var server = await StartAsync(wsAuth: false);
        await using var client = await Client.ConnectAsync(server);
        await client.ReceiveAsync();
        Assert.Single(RuntimeIds(server));

        Directory.Delete(Path.Combine(server.PluginsFolder, TestSocketPlugin.Name), recursive: true);

        Assert.Null(await client.ReceiveAsync());
        await TestServer.EventuallyAsync(() => Task.FromResult(RuntimeIds(server).Length == 0), "the credential is withdrawn");
        await TestServer.EventuallyAsync(async () =>
        {
            using var response = await server.Client.GetAsync(TestSocketPlugin.Path);
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "the path disappears");
    }

    [Fact]
    public async Task Stopping_the_server_ends_its_sessions()
    {
        var server = await StartAsync(wsAuth: false);
        await using var client = await Client.ConnectAsync(server);
        await client.ReceiveAsync();
        var stopping = server.DisposeAsync().AsTask();
        Assert.Null(await client.ReceiveAsync());
        await stopping.WaitAsync(Guard);
    }
}
