using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The outermost middleware. Writes one access-log line per request: id, method, path (never the query, which can
/// carry <c>?key=</c>), status, duration, and the provider and credential label that served it; the id is also
/// returned as <c>X-Request-Id</c>. It is also the last line of defence: an unhandled exception becomes a 500 in the
/// client's dialect instead of an empty response. The line itself is built by <see cref="AccessLog"/> (the cheap path: this
/// runs on every request); the rare unhandled-exception line stays a [LoggerMessage].
/// </summary>
internal sealed partial class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, AccessLog accessLog,
    PluginProxy.Host.UsageStatistics.UsageRecorder usage)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var trace = new RequestTrace(NewRequestId());
        http.Features.Set(trace);
        http.Response.Headers["X-Request-Id"] = trace.RequestId;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            LogUnhandled(e, trace.RequestId);
            if (!http.Response.HasStarted)
                await ErrorWriter.WriteAsync(http, ClientDialect.ForPath(http.Request.Path.Value ?? ""), 500, $"Internal error (request {trace.RequestId}); see the server log.");
        }
        catch (OperationCanceledException)
        {
            // The client disconnected; nothing to answer.
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var status = http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted ? 499 : http.Response.StatusCode;
            if (accessLog.IsEnabled)
                accessLog.Write(trace.RequestId, http.Request.Method, http.Request.Path.Value ?? "/", status, elapsed, trace.Provider, trace.Credential, trace.Usage,
                    http.Connection.Id);
            usage.Record(http, trace, status, elapsed); // usage statistics: one enqueue, the rest happens in host/Usage
        }
    }

    // Eight hex digits: the bytes of a random int in memory order, as before, without the byte[].
    internal static string NewRequestId()
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, Random.Shared.Next());
        return Convert.ToHexStringLower(bytes);
    }

    [LoggerMessage(LogLevel.Error, "[{ProxyRequestId}] Unhandled exception")]
    private partial void LogUnhandled(Exception exception, string proxyRequestId);
}
