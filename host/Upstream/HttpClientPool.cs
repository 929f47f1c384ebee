using System.Collections.Concurrent;
using System.Net;

namespace PluginProxy.Host.Upstream;

/// <summary>
/// One pooled <see cref="HttpClient"/> per distinct outbound proxy (and one for direct connections), shared by
/// every credential with that setting. Handlers live for the process; connections are recycled by lifetime.
/// </summary>
public sealed class HttpClientPool : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _clients = new(StringComparer.Ordinal);

    /// <summary>The client for <paramref name="proxyUrl"/> (null or empty: direct).</summary>
    public HttpClient Get(string? proxyUrl) =>
        _clients.GetOrAdd(proxyUrl?.Trim() ?? "", key => new Lazy<HttpClient>(() => Create(key))).Value;

    /// <summary>The proxy to use: the credential's own, else the global one.</summary>
    public HttpClient For(string? credentialProxy, string? globalProxy) =>
        Get(!string.IsNullOrWhiteSpace(credentialProxy) ? credentialProxy : globalProxy);

    public int Count => _clients.Count;

    private static HttpClient Create(string proxyUrl)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.All,
            EnableMultipleHttp2Connections = true,
            // Without an explicit proxy the environment's HTTP(S)_PROXY applies, as in CLIProxyAPI.
            UseProxy = true,
        };
        if (proxyUrl.Length > 0)
        {
            var uri = new Uri(proxyUrl);
            var proxy = new WebProxy(new UriBuilder(uri) { UserName = "", Password = "" }.Uri);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                var parts = uri.UserInfo.Split(':', 2);
                proxy.Credentials = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
            }
            handler.Proxy = proxy;
        }
        // Streams can run for many minutes; cancellation comes from the client request instead.
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated)) client.Value.Dispose();
    }
}
