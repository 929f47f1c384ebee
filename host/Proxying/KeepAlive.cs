namespace PluginProxy.Host.Proxying;

/// <summary>
/// <c>nonstream-keepalive-interval</c>: while a non-streaming answer is pending, a newline every N seconds keeps idle
/// proxies from closing the connection (JSON allows leading whitespace). It commits status 200, as in CLIProxyAPI.
/// </summary>
internal static class KeepAlive
{
    public static async Task<T> AwaitAsync<T>(ProxyRequest request, Task<T> work, TimeProvider clock)
    {
        var seconds = request.Config.Config.NonstreamKeepaliveInterval;
        if (seconds <= 0 || !request.Endpoint.NonStreamKeepAlive) return await work;
        var response = request.Http.Response;
        while (await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(seconds), clock, request.Aborted)) != work)
        {
            if (!response.HasStarted)
            {
                response.StatusCode = 200;
                response.ContentType = "application/json";
            }
            try
            {
                await response.Body.WriteAsync("\n"u8.ToArray(), request.Aborted);
                await response.Body.FlushAsync(request.Aborted);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                throw new ClientGoneException(e);
            }
        }
        return await work;
    }
}
