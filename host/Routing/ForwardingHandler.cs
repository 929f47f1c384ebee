using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Config;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Proxying;
using PluginProxy.Host.Security;
using Yarp.ReverseProxy.Forwarder;

namespace PluginProxy.Host.Routing;

/// <summary>One forwarding route of one routing plugin, as host-owned strings.</summary>
/// <param name="Owner">The routing plugin that decides where its requests go.</param>
/// <param name="Route">The route's name (<see cref="ForwardingContext.Route"/>).</param>
internal sealed record ForwardingTarget(PluginRouteOwner Owner, string Route);

/// <summary>
/// Serves a request to a <see cref="ForwardingRoute"/>: asks the owning routing plugin where it goes (from live
/// settings), then relays it with YARP's <see cref="IHttpForwarder"/>, which streams the body both ways as bytes arrive.
/// The plugin set is leased for the whole request, so a swap cannot unload the plugin under it. Also relays inference
/// requests a router's <see cref="RouteDecision.Forward"/> sends elsewhere (<see cref="RelayAsync"/>).
/// </summary>
internal sealed partial class ForwardingHandler(
    PluginRuntime plugins,
    ConfigStore config,
    IHttpForwarder forwarder,
    ForwardingClients clients,
    SecretRedactor redactor,
    PluginLogs pluginLogs,
    ILogger<ForwardingHandler> logger)
{
    private readonly ILogger _logger = logger;

    public async Task HandleAsync(HttpContext http, ForwardingTarget target)
    {
        using var lease = plugins.Acquire();
        var router = Find(lease.Set, target.Owner);
        if (router is null)
        {
            // The plugin was removed between matching and leasing: the route is gone.
            await WriteErrorAsync(http, 404, "Not found.");
            return;
        }
        var context = new ForwardingContext
        {
            Route = target.Route,
            Method = http.Request.Method,
            Path = http.Request.Path.Value ?? "/",
            Headers = RoutingRequest.AllHeaders(http.Request),
            ClientKey = RoutingRequest.ClientKey(http),
            FromLoopback = RoutingRequest.FromLoopback(http),
            Settings = config.Current.SettingsFor(router.Id),
            Log = pluginLogs.For(router.Id),
        };
        ForwardingDecision decision;
        try
        {
            decision = router.Forward(context) ?? throw new InvalidOperationException("Forward returned null");
        }
        catch (Exception e)
        {
            // A plugin bug fails this request only.
            LogPluginFailed(e, router.Id, target.Route);
            await WriteErrorAsync(http, 502, $"The routing plugin '{router.Id}' failed: {redactor.Redact(e.Message)}");
            return;
        }
        if (decision.ErrorStatus is { } status)
        {
            await WriteErrorAsync(http, status is >= 400 and <= 599 ? status : 500, decision.ErrorMessage ?? "The request was refused.");
            return;
        }
        await SendAsync(http, decision, router.Id, target.Route, WriteErrorAsync);
    }

    /// <summary>
    /// Relays an inference request a routing plugin sent elsewhere (<see cref="RouteDecision.Forward"/>): the client's
    /// method, path and query with the bytes the host already read as its body, through the same forwarder and
    /// transformer as the forwarding routes. Refusals and failures answer in the client's dialect.
    /// </summary>
    public async Task RelayAsync(ProxyRequest request, ForwardingDecision decision, string router)
    {
        var http = request.Http;
        Task WriteError(HttpContext context, int status, string message) => ErrorWriter.WriteAsync(context, request.Client, status, message);
        if (decision.ErrorStatus is { } status)
        {
            await WriteError(http, status is >= 400 and <= 599 ? status : 500, decision.ErrorMessage ?? "The request was refused.");
            return;
        }
        if (http.Features.Get<RequestTrace>() is { } trace) trace.Provider = router;
        // The body stream was read to its end by RequestReader: YARP reads the same bytes from a replacement.
        http.Request.Body = MemoryMarshal.TryGetArray(request.Body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(request.Body.ToArray(), writable: false);
        await SendAsync(http, decision, router, "inference", WriteError);
    }

    private async Task SendAsync(HttpContext http, ForwardingDecision decision, string router, string route, Func<HttpContext, int, string, Task> writeError)
    {
        if (!Uri.TryCreate(decision.Destination, UriKind.Absolute, out var destination) || destination.Scheme is not ("http" or "https"))
        {
            LogNoDestination(router, route);
            await writeError(http, 502, $"The routing plugin '{router}' named no usable destination for route '{route}'.");
            return;
        }

        var settings = config.Config;
        var error = await forwarder.SendAsync(http, destination.GetLeftPart(UriPartial.Path).TrimEnd('/'), clients.For(settings.ProxyUrl),
            new ForwarderRequestConfig { ActivityTimeout = ActivityTimeout(settings.Timeouts) }, new ForwardingTransformer(decision));
        if (error == ForwarderError.None) return;
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled) return; // the client left
        LogForwardFailed(redactor.Redact(http.GetForwarderErrorFeature()?.Exception?.Message ?? ""), route, destination.Host, error);
        if (!http.Response.HasStarted)
        {
            await writeError(http, error == ForwarderError.RequestTimedOut ? 504 : 502,
                $"Forwarding route '{route}' to {destination.Host} failed ({Describe(error)}).");
        }
        // After the response started YARP has aborted it: the client sees a truncated body, as from the upstream itself.
    }

    private static IRoutingPlugin? Find(PluginSet set, PluginRouteOwner owner) =>
        set.Plugins.FirstOrDefault(p => p.Name == owner.Plugin)?.Routers.FirstOrDefault(r => r.Id == owner.Router);

    /// <summary>How long the upstream may stay silent: the longer of the first-byte and stream-idle timeouts.</summary>
    private static TimeSpan ActivityTimeout(TimeoutsConfig timeouts) =>
        timeouts.FirstByte == Timeout.InfiniteTimeSpan || timeouts.StreamIdle == Timeout.InfiniteTimeSpan
            ? TimeSpan.FromDays(1)
            : timeouts.FirstByte > timeouts.StreamIdle ? timeouts.FirstByte : timeouts.StreamIdle;

    private static string Describe(ForwarderError error) => error switch
    {
        ForwarderError.Request => "the upstream could not be reached",
        ForwarderError.RequestTimedOut => "the upstream did not answer in time",
        ForwarderError.ResponseBodyDestination or ForwarderError.RequestBodyDestination => "the upstream broke the connection",
        _ => error.ToString(),
    };

    private static Task WriteErrorAsync(HttpContext http, int status, string message) =>
        ErrorWriter.WriteJsonAsync(http, status, new JsonObject { ["error"] = new JsonObject { ["message"] = message } });

    [LoggerMessage(LogLevel.Error, "Routing plugin {Router} failed deciding forwarding route {Route}")]
    private partial void LogPluginFailed(Exception exception, string router, string route);

    [LoggerMessage(LogLevel.Warning, "Routing plugin {Router} gave forwarding route {Route} no usable destination")]
    private partial void LogNoDestination(string router, string route);

    [LoggerMessage(LogLevel.Warning, "Forwarding route {Route} to {Host} failed: {Error} {Reason}")]
    private partial void LogForwardFailed(string reason, string route, string host, ForwarderError error);
}
