using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Management;

/// <summary>
/// A test server with the management API on. Requests carrying <c>X-Test-Peer</c> appear to come from that address
/// (the connection's remote address is replaced before anything else runs), which is how tests play a remote client.
/// </summary>
internal sealed class ManagementServer : IAsyncDisposable
{
    public const string Key = "mgmt-secret-key-1234";
    public const string PeerHeader = "X-Test-Peer";

    private ManagementServer(TestServer server) => Server = server;

    public TestServer Server { get; }

    public static async Task<ManagementServer> StartAsync(string yaml = "", bool allowRemote = false, string secret = Key, TimeProvider? clock = null, Action<string>? prepare = null)
    {
        var config = $"""
            # management test config
            remote-management:
              # who may manage remotely
              allow-remote: {(allowRemote ? "true" : "false")}
              secret-key: "{secret}"  # replaced by its hash at startup
            {yaml}
            """;
        var server = await TestServer.StartAsync(config, prepare, clock: clock, beforePipeline: app => app.Use(async (http, next) =>
        {
            if (http.Request.Headers.TryGetValue(PeerHeader, out var peer)) http.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
            await next(http);
        }));
        return new ManagementServer(server);
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string? key = Key, string? peer = null, bool header = false)
    {
        var request = new HttpRequestMessage(method, "/v0/management" + path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (key is not null)
        {
            if (header) request.Headers.Add("X-Management-Key", key);
            else request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (peer is not null) request.Headers.Add(PeerHeader, peer);
        return request;
    }

    public async Task<(int Status, JsonNode? Body, string Text)> SendAsync(HttpMethod method, string path, string? json = null, string? key = Key, string? peer = null, bool header = false)
    {
        using var response = await Server.Client.SendAsync(Request(method, path, json, key, peer, header));
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return ((int)response.StatusCode, body, text);
    }

    public Task<(int Status, JsonNode? Body, string Text)> GetAsync(string path, string? key = Key, string? peer = null) => SendAsync(HttpMethod.Get, path, null, key, peer);
    public Task<(int Status, JsonNode? Body, string Text)> PutAsync(string path, string json) => SendAsync(HttpMethod.Put, path, json);
    public Task<(int Status, JsonNode? Body, string Text)> PatchAsync(string path, string json) => SendAsync(HttpMethod.Patch, path, json);
    public Task<(int Status, JsonNode? Body, string Text)> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);
    public Task<(int Status, JsonNode? Body, string Text)> DeleteAsync(string path, string? json = null) => SendAsync(HttpMethod.Delete, path, json);

    public string ConfigText => File.ReadAllText(Server.ConfigPath);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
