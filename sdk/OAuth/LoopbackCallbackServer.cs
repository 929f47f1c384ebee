using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Sdk.OAuth;

/// <summary>
/// A one-shot HTTP listener on 127.0.0.1 that receives the browser's redirect after consent. It checks <c>state</c>
/// itself, so a request with a wrong state never yields a code: the first callback on <see cref="Path"/> decides
/// <see cref="Code"/> (the code, or an <see cref="OAuthException"/>) and gets a small success or failure page. Other
/// paths (a favicon, a browser's pre-connect) are answered and ignored. A raw socket rather than HttpListener: the
/// latter cannot bind port 0 on every platform, and one GET needs no more than this.
/// </summary>
public sealed class LoopbackCallbackServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private const int MaxRequestBytes = 16 * 1024;

    private readonly List<TcpListener> _listeners;
    private readonly string _expectedState;
    private readonly string _displayName;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _code = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoopbackCallbackServer(List<TcpListener> listeners, string path, string expectedState, string displayName)
    {
        _listeners = listeners;
        Path = path;
        _expectedState = expectedState;
        _displayName = displayName;
        Port = ((IPEndPoint)listeners[0].LocalEndpoint).Port;
        foreach (var listener in listeners) _ = AcceptLoopAsync(listener);
    }

    /// <summary>The port actually bound (the one chosen by the system when 0 was asked for).</summary>
    public int Port { get; }

    /// <summary>The callback path, for example <c>/callback</c>.</summary>
    public string Path { get; }

    /// <summary><c>http://127.0.0.1:{Port}{Path}</c>.</summary>
    public string LocalUrl => $"http://127.0.0.1:{Port}{Path}";

    /// <summary>Completes with the code of the first valid callback, or fails with an <see cref="OAuthException"/>.</summary>
    public Task<string> Code => _code.Task;

    /// <summary>
    /// Starts listening. Throws <see cref="OAuthException"/> when the port is taken. Also listens on [::1] with the same
    /// port when it can, for browsers that resolve <c>localhost</c> to IPv6 first.
    /// </summary>
    /// <param name="port">0 lets the system choose (tests); providers usually have a registered default.</param>
    /// <param name="path">The redirect URI's path.</param>
    /// <param name="expectedState">The <c>state</c> sent with the authorize URL.</param>
    /// <param name="displayName">The provider's name for the browser page.</param>
    public static LoopbackCallbackServer Start(int port, string path, string expectedState, string displayName = "the provider")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ArgumentException.ThrowIfNullOrEmpty(expectedState);
        path = "/" + path.TrimStart('/');
        var v4 = new TcpListener(IPAddress.Loopback, port);
        try
        {
            v4.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            v4.Dispose();
            throw new OAuthException($"port {port} is in use; pass --callback-port with a free port", inner: e);
        }
        var listeners = new List<TcpListener> { v4 };
        var bound = ((IPEndPoint)v4.LocalEndpoint).Port;
        if (Socket.OSSupportsIPv6)
        {
            var v6 = new TcpListener(IPAddress.IPv6Loopback, bound);
            try
            {
                v6.Start();
                listeners.Add(v6);
            }
            catch (SocketException)
            {
                v6.Dispose(); // IPv4 alone still works: browsers fall back to 127.0.0.1.
            }
        }
        return new LoopbackCallbackServer(listeners, path, expectedState, displayName);
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        // Not tied to _stop: the page of the callback that ended the login must still reach the browser after disposal.
        using var timeout = new CancellationTokenSource(ReadTimeout);
        Action? decide = null;
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            if (head is null) return;
            var page = Handle(head);
            decide = page.Decide;
            await WritePageAsync(stream, page.Status, page.Title, page.Message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A browser that went away mid-request; the outcome (if any) still counts.
        }
        finally
        {
            // After the page is written: the login returns (and disposes this server) once Code completes.
            decide?.Invoke();
        }
    }

    private (int Status, string Title, string Message, Action? Decide) Handle(string head)
    {
        var requestLine = head[..Math.Max(0, head.IndexOf('\r'))].Split(' ');
        if (requestLine.Length < 2) return (400, "Bad request", "This is the login callback of PluginProxy.", null);
        var target = requestLine[1];
        var q = target.IndexOf('?');
        var query = q >= 0 ? target[(q + 1)..] : "";
        var path = q >= 0 ? target[..q] : target;
        if (!string.Equals(path, Path, StringComparison.Ordinal)) return (404, "Not found", "This is the login callback of PluginProxy.", null);
        if (requestLine[0] != "GET") return (405, "Method not allowed", "The login callback accepts GET only.", null);
        try
        {
            var code = OAuthRedirect.FromQuery(query).CodeFor(_expectedState);
            return (200, "Login successful", $"You are logged in to {_displayName}. You can close this window and return to the terminal.",
                () => _code.TrySetResult(code));
        }
        catch (OAuthException e)
        {
            return (400, "Login failed", $"Login to {_displayName} failed: {e.Message}. Return to the terminal and try again.",
                () => _code.TrySetException(e));
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0) return null;
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal)) return text;
        }
        return null; // a request head this large is not a redirect
    }

    private static async Task WritePageAsync(NetworkStream stream, int status, string title, string message, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($"""
            <!doctype html>
            <html><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(title)}</title></head>
            <body style="font-family:sans-serif;margin:3em"><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(message)}</p></body></html>
            """);
        var reason = status switch { 200 => "OK", 400 => "Bad Request", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Error" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\n" +
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var listener in _listeners) listener.Stop();
        _code.TrySetCanceled(); // _stop is not disposed: connections still being served read its token
        return ValueTask.CompletedTask;
    }
}
