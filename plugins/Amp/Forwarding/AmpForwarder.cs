using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.Amp.Config;
using PluginProxy.Plugins.Amp.Routes;

namespace PluginProxy.Plugins.Amp.Forwarding;

/// <summary>
/// Decides one request to Amp's own routes: refused from other machines when <c>restrict-management-to-localhost</c>
/// is set (by the TCP peer, never by forwarding headers), refused without an upstream, otherwise relayed to
/// <c>upstream-url</c> with the proxy's client key replaced by an Amp key. Also builds the relay of a model request that
/// falls through to ampcode (<see cref="Inference"/>).
/// </summary>
internal static class AmpForwarder
{
    public const string LocalhostOnly = "Access denied: Amp management routes are restricted to localhost (ampcode.restrict-management-to-localhost).";
    public const string NoUpstream = "The Amp upstream is not configured: set ampcode.upstream-url in config.yaml (for example https://ampcode.com) to reach Amp's own routes through this proxy.";
    public const string MissingClientKey = "Missing or invalid API key. Send one of the keys in api-keys as 'Authorization: Bearer <key>' or 'x-api-key'.";
    public const string NoPreflight = "CORS preflight requests are not allowed on Amp management routes.";

    public static ForwardingDecision Decide(ForwardingContext context)
    {
        var settings = AmpSettings.From(context.Settings);
        if (AmpRoutes.Find(context.Route) is not { } route) return ForwardingDecision.Reject(404, "Not found.");
        if (settings.RestrictManagementToLocalhost && !context.FromLoopback) return ForwardingDecision.Reject(403, LocalhostOnly);
        if (settings.UpstreamUrl is not { } upstream) return ForwardingDecision.Reject(503, NoUpstream);

        var method = context.Method.ToUpperInvariant();
        switch (route.Access)
        {
            case RouteAccess.Api when method == "OPTIONS":
                // A web page must not get a preflight through to routes that carry the Amp key.
                return ForwardingDecision.Reject(403, NoPreflight);
            case RouteAccess.Page or RouteAccess.Feed when method is not ("GET" or "HEAD"):
                return ForwardingDecision.Reject(405, $"Method {method} is not allowed on {context.Path}.");
        }

        var authenticated = context.ClientKey is not null || !settings.ClientKeysConfigured;
        if (!authenticated && route.Access is RouteAccess.Api or RouteAccess.Feed) return ForwardingDecision.Reject(401, MissingClientKey);

        // Pages and the login flow are reachable without a proxy key (a browser opens them), but only a caller the
        // proxy knows gets the Amp key: anyone else reaches ampcode.com as themselves.
        var key = authenticated ? UpstreamKeys.Resolve(settings, context.ClientKey) : null;
        return To(upstream, key);
    }

    /// <summary>
    /// A model request no local account serves, relayed as the client sent it to <c>upstream-url</c> (ampcode.com serves
    /// the same <c>/api/provider/...</c> paths) with the Amp key for this client. The host already checked the client's key.
    /// </summary>
    public static ForwardingDecision Inference(AmpSettings settings, Uri upstream, string? clientKey) =>
        To(upstream, UpstreamKeys.Resolve(settings, clientKey));

    // The host drops the client's own auth headers and ?key=/?auth_token=; the Amp key replaces them. Without a key the
    // request goes as is and ampcode.com answers for itself, as CLIProxyAPI does.
    private static ForwardingDecision To(Uri upstream, string? key)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (key is not null)
        {
            headers["Authorization"] = "Bearer " + key;
            headers["X-Api-Key"] = key;
        }
        return new ForwardingDecision { Destination = upstream.GetLeftPart(UriPartial.Path), SetHeaders = headers };
    }
}
