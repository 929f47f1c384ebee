using System.Collections.Concurrent;
using System.Net;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Routing;

/// <summary>
/// The <see cref="HttpMessageInvoker"/>s forwarding routes go out through: one pooled <see cref="SocketsHttpHandler"/> per
/// outbound proxy setting (the global <c>proxy-url</c>, else direct or the environment's), set up as YARP requires
/// (no redirects, no decompression, no cookies), so bytes are relayed exactly as the upstream sent them.
/// </summary>
internal sealed class ForwardingClients : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpMessageInvoker>> _invokers = new(StringComparer.Ordinal);

    public HttpMessageInvoker For(string? proxyUrl) =>
        _invokers.GetOrAdd(proxyUrl?.Trim() ?? "", key => new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(Create(key), disposeHandler: true))).Value;

    private static SocketsHttpHandler Create(string proxyUrl)
    {
        var handler = HttpClientPool.Create(proxyUrl);
        handler.AllowAutoRedirect = false;
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.UseCookies = false;
        handler.ActivityHeadersPropagator = null; // forward the client's trace headers, do not add ours
        return handler;
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers.Values.Where(i => i.IsValueCreated)) invoker.Value.Dispose();
    }
}
