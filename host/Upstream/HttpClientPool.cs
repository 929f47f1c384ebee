using System.Collections.Concurrent;
using System.Net;

namespace PluginProxy.Host.Upstream;

/// <summary>
/// One pooled <see cref="HttpClient"/> per distinct outbound proxy (and one for direct connections), shared by
/// every credential with that setting. Handlers live for the process; connections are recycled by lifetime.
/// </summary>
internal sealed class HttpClientPool : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<HttpMessageHandler>> _handlers = new(StringComparer.Ordinal);

    /// <summary>The client for <paramref name="proxyUrl"/> (null or empty: direct).</summary>
    public HttpClient Get(string? proxyUrl) =>
        _clients.GetOrAdd(Choose(proxyUrl, null), key => new Lazy<HttpClient>(() => new HttpClient(Handler(key), disposeHandler: false)
        {
            // Streams can run for many minutes; cancellation comes from the client request and the attempt's timeouts.
            Timeout = Timeout.InfiniteTimeSpan,
        })).Value;

    /// <summary>The proxy to use: the credential's own, else the global one.</summary>
    public HttpClient For(string? credentialProxy, string? globalProxy) => Get(Choose(credentialProxy, globalProxy));

    /// <summary>
    /// A client for one upstream attempt: the pooled handler of the proxy setting (or the plugin's own
    /// <paramref name="transport"/>, <c>IProviderPlugin.TransportFor</c>), wrapped in the host's concerns. Neither is disposed.
    /// </summary>
    internal HttpClient ForAttempt(string? credentialProxy, string? globalProxy, AttemptConcerns concerns, HttpMessageHandler? transport = null) =>
        new(new AttemptHandler(transport ?? Handler(Choose(credentialProxy, globalProxy)), concerns), disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The key for a connection: "" (environment proxies apply), <see cref="Direct"/>, or a proxy URL.</summary>
    private static string Choose(string? credentialProxy, string? globalProxy) =>
        (!string.IsNullOrWhiteSpace(credentialProxy) ? credentialProxy : globalProxy)?.Trim() is { } chosen
            ? chosen.ToLowerInvariant() is Direct or "none" ? Direct : chosen
            : "";

    /// <summary><c>proxy-url: direct</c> (or <c>none</c>): no proxy at all, not even HTTP(S)_PROXY from the environment.</summary>
    internal const string Direct = "direct";

    private HttpMessageHandler Handler(string proxyUrl) =>
        _handlers.GetOrAdd(proxyUrl, key => new Lazy<HttpMessageHandler>(() => Create(key))).Value;

    public int Count => _clients.Count;

    internal static SocketsHttpHandler Create(string proxyUrl)
    {
        proxyUrl = Choose(proxyUrl, null);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.All,
            // One handler serves every credential (and every client) with the same proxy setting: a cookie one
            // account's answer set must never ride along on another's request. Plugins that need a cookie send it.
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            // Without an explicit proxy the environment's HTTP(S)_PROXY applies, as in CLIProxyAPI.
            UseProxy = proxyUrl != Direct,
        };
        if (proxyUrl.Length > 0 && proxyUrl != Direct)
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
        return handler;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated)) client.Value.Dispose();
        foreach (var handler in _handlers.Values.Where(h => h.IsValueCreated)) handler.Value.Dispose();
    }
}
