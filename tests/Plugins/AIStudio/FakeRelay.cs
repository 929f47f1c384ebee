using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.AIStudio;

/// <summary>One <c>http_request</c> a fake relay received.</summary>
internal sealed record RelayRequest(string Id, string Method, string Url, JsonObject Headers, string Body)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is JsonArray values ? string.Join(",", values.Select(v => (string?)v)) : null;
}

/// <summary>
/// A relay client as an AI Studio Build tab would be: a <see cref="ClientWebSocket"/> that receives <c>http_request</c>s
/// and answers them as the test tells it. How the connection ended is kept in <see cref="Closed"/>.
/// </summary>
internal sealed class FakeRelay : IAsyncDisposable
{
    /// <summary>Guards every wait so a broken proxy fails the test instead of hanging it; not a timing assertion.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket;
    private readonly Channel<RelayRequest> _requests = Channel.CreateUnbounded<RelayRequest>();
    private readonly Channel<JsonObject> _other = Channel.CreateUnbounded<JsonObject>();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Task _reader;

    private FakeRelay(ClientWebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Completes with the close status the server sent, or null when the connection broke without one.</summary>
    public TaskCompletionSource<WebSocketCloseStatus?> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? CloseDescription { get; private set; }

    public static Uri SocketUri(TestServer server, string path = "/v1/ws", string? query = null) =>
        new UriBuilder(server.Address) { Scheme = "ws", Path = path, Query = query ?? "" }.Uri;

    public static async Task<FakeRelay> ConnectAsync(TestServer server, string? id = null, string? bearer = null, string path = "/v1/ws", string? query = null)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        var q = string.Join("&", new[] { id is null ? null : "id=" + id, query }.Where(p => p is not null));
        using var guard = new CancellationTokenSource(Guard);
        await socket.ConnectAsync(SocketUri(server, path, q), guard.Token);
        return new FakeRelay(socket);
    }

    public async Task<RelayRequest> NextRequestAsync()
    {
        using var guard = new CancellationTokenSource(Guard);
        return await _requests.Reader.ReadAsync(guard.Token);
    }

    public bool TryTakeRequest(out RelayRequest? request) => _requests.Reader.TryRead(out request);

    public async Task<JsonObject> NextOtherAsync()
    {
        using var guard = new CancellationTokenSource(Guard);
        return await _other.Reader.ReadAsync(guard.Token);
    }

    public async Task<WebSocketCloseStatus?> WaitClosedAsync() => await Closed.Task.WaitAsync(Guard);

    public Task SendAsync(JsonObject message) => SendTextAsync(message.ToJsonString());

    public async Task SendTextAsync(string text)
    {
        await _writeGate.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public Task RespondAsync(string id, int status, string body, string contentType = "application/json") => SendAsync(new JsonObject
    {
        ["id"] = id, ["type"] = "http_response",
        ["payload"] = new JsonObject { ["status"] = status, ["headers"] = new JsonObject { ["Content-Type"] = new JsonArray(contentType) }, ["body"] = body },
    });

    public Task StreamStartAsync(string id, int status = 200) => SendAsync(new JsonObject
    {
        ["id"] = id, ["type"] = "stream_start",
        ["payload"] = new JsonObject { ["status"] = status, ["headers"] = new JsonObject { ["Content-Type"] = new JsonArray("text/event-stream") } },
    });

    public Task ChunkAsync(string id, string data) => SendAsync(new JsonObject { ["id"] = id, ["type"] = "stream_chunk", ["payload"] = new JsonObject { ["data"] = data } });

    public Task StreamEndAsync(string id) => SendAsync(new JsonObject { ["id"] = id, ["type"] = "stream_end" });

    public Task ErrorAsync(string id, string message, int status) =>
        SendAsync(new JsonObject { ["id"] = id, ["type"] = "error", ["payload"] = new JsonObject { ["error"] = message, ["status"] = status } });

    /// <summary>The tab closes without a goodbye.</summary>
    public void Drop() => _socket.Abort();

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseDescription = _socket.CloseStatusDescription;
                    Closed.TrySetResult(_socket.CloseStatus);
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if ((string?)json["type"] == "http_request")
                {
                    var payload = json["payload"]!.AsObject();
                    _requests.Writer.TryWrite(new RelayRequest((string)json["id"]!, (string)payload["method"]!, (string)payload["url"]!,
                        payload["headers"]!.AsObject(), (string?)payload["body"] ?? ""));
                }
                else
                {
                    _other.Writer.TryWrite(json);
                }
            }
        }
        catch (Exception)
        {
            Closed.TrySetResult(null);
        }
        finally
        {
            _requests.Writer.TryComplete();
            _other.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _reader;
        _socket.Dispose();
    }
}
