using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Tests.Support;

/// <summary>
/// Loopback stand-ins for outbound proxies. <see cref="HttpForwardProxy"/> answers absolute-form HTTP requests itself
/// (proving the request came through it); <see cref="Socks5Proxy"/> is a no-auth SOCKS5 relay to loopback targets.
/// Both count what they saw.
/// </summary>
public abstract class FakeProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    protected FakeProxy()
    {
        _listener.Start();
        _loop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Connections => Volatile.Read(ref _connections);
    public List<string> Seen { get; } = [];

    protected abstract Task HandleAsync(NetworkStream client, CancellationToken cancellation);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await HandleAsync(client.GetStream(), _stop.Token);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
                    {
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>An HTTP proxy that answers every request with a fixed OpenAI chat completion naming itself.</summary>
public sealed class HttpForwardProxy : FakeProxy
{
    protected override async Task HandleAsync(NetworkStream client, CancellationToken cancellation)
    {
        var reader = new StreamReader(client, Encoding.ASCII, false, 1024, leaveOpen: true);
        while (true)
        {
            var requestLine = await reader.ReadLineAsync(cancellation);
            if (requestLine is null) return;
            var length = 0;
            string? line;
            while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(cancellation)))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
            var body = new char[length];
            for (var read = 0; read < length;) read += await reader.ReadAsync(body.AsMemory(read), cancellation);
            lock (Seen) Seen.Add(requestLine);
            var answer = """{"id":"via-proxy","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"via http proxy"},"finish_reason":"stop"}]}""";
            var bytes = Encoding.UTF8.GetBytes(answer);
            var head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n";
            await client.WriteAsync(Encoding.ASCII.GetBytes(head), cancellation);
            await client.WriteAsync(bytes, cancellation);
        }
    }
}

/// <summary>A SOCKS5 (RFC 1928, no authentication, CONNECT only) relay.</summary>
public sealed class Socks5Proxy : FakeProxy
{
    protected override async Task HandleAsync(NetworkStream client, CancellationToken cancellation)
    {
        var greeting = new byte[2];
        await client.ReadExactlyAsync(greeting, cancellation);
        await client.ReadExactlyAsync(new byte[greeting[1]], cancellation);
        await client.WriteAsync(new byte[] { 5, 0 }, cancellation);
        var header = new byte[4];
        await client.ReadExactlyAsync(header, cancellation);
        string host;
        switch (header[3])
        {
            case 1:
                var v4 = new byte[4];
                await client.ReadExactlyAsync(v4, cancellation);
                host = new IPAddress(v4).ToString();
                break;
            case 3:
                var len = new byte[1];
                await client.ReadExactlyAsync(len, cancellation);
                var name = new byte[len[0]];
                await client.ReadExactlyAsync(name, cancellation);
                host = Encoding.ASCII.GetString(name);
                break;
            default:
                var v6 = new byte[16];
                await client.ReadExactlyAsync(v6, cancellation);
                host = new IPAddress(v6).ToString();
                break;
        }
        var portBytes = new byte[2];
        await client.ReadExactlyAsync(portBytes, cancellation);
        var port = portBytes[0] << 8 | portBytes[1];
        lock (Seen) Seen.Add($"{host}:{port}");
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(host == "localhost" ? "127.0.0.1" : host, port, cancellation);
        await client.WriteAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 }, cancellation);
        var target = upstream.GetStream();
        await Task.WhenAny(client.CopyToAsync(target, cancellation), target.CopyToAsync(client, cancellation));
    }
}
