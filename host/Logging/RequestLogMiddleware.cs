using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The outermost middleware. Writes one access-log line per request: id, method, path (never the query, which can
/// carry <c>?key=</c>), status, duration, and the provider and credential label that served it; the id is also
/// returned as <c>X-Request-Id</c>. It is also the last line of defence: an unhandled exception becomes a 500 in the
/// client's dialect instead of an empty response.
/// </summary>
internal sealed partial class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, PluginProxy.Host.UsageStatistics.UsageRecorder usage)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var trace = new RequestTrace(Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next())));
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
            LogRequest(trace.RequestId, http.Request.Method, http.Request.Path.Value ?? "/", status, elapsed, trace.Provider ?? "-", trace.Credential ?? "-",
                trace.Usage is { } tokens ? $"{tokens.InputTokens}/{tokens.OutputTokens}" : "-");
            usage.Record(http, trace, status, elapsed); // usage statistics: one enqueue, the rest happens in host/Usage
        }
    }

    // "ProxyRequestId": ASP.NET's logging scope already owns "RequestId" and would overwrite it.
    [LoggerMessage(LogLevel.Information, "[{ProxyRequestId}] {Method} {Path} -> {Status} in {Elapsed:0} ms provider={Provider} credential={Credential} tokens={Tokens}")]
    private partial void LogRequest(string proxyRequestId, string method, string path, int status, double elapsed, string provider, string credential, string tokens);

    [LoggerMessage(LogLevel.Error, "[{ProxyRequestId}] Unhandled exception")]
    private partial void LogUnhandled(Exception exception, string proxyRequestId);
}
