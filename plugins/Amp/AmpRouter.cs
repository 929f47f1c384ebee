using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.Amp.Config;
using PluginProxy.Plugins.Amp.Diagnostics;
using PluginProxy.Plugins.Amp.Forwarding;
using PluginProxy.Plugins.Amp.Routes;

namespace PluginProxy.Plugins.Amp;

/// <summary>
/// Makes the proxy a backend for the Amp CLI (<c>amp.url</c>): Amp's model calls under <c>/api/provider/{provider}/...</c>
/// are served by local accounts, with <c>ampcode.model-mappings</c> standing in for models no local account serves;
/// Amp's own routes (login, threads, telemetry, ...) are relayed to <c>ampcode.upstream-url</c> with an Amp key. A model
/// call neither a local account nor a mapping serves falls through to <c>upstream-url</c> (using Amp credits, with a
/// warning every time) unless <c>forbid-inference-fallthrough</c> is set. Stateless: every decision reads the request's
/// config snapshot.
/// </summary>
public sealed class AmpRouter : IRoutingPlugin
{
    public string Id => "amp";

    public int Order => 0;

    public IReadOnlyList<RouteAlias> Routes => AmpRoutes.Aliases;

    public IReadOnlyList<ForwardingRoute> ForwardingRoutes => AmpRoutes.ForwardingRoutes;

    /// <summary>
    /// On Amp's provider paths only: a model no local account serves (or any model, with <c>force-model-mappings</c>)
    /// is rewritten by the first mapping whose target is served, and answers keep the name the client asked for. The
    /// provider segment never pins a provider: any local account serving the model may answer. A model nothing serves
    /// goes to ampcode as the client sent it when an upstream is set and fall-through is allowed; otherwise the host
    /// answers its usual "not served" error.
    /// </summary>
    public RouteDecision Route(RouteContext context)
    {
        if (!AmpRoutes.IsProviderPath(context.Path) || string.IsNullOrWhiteSpace(context.Model)) return RouteDecision.Unchanged;
        var settings = AmpSettings.From(context.Settings);
        var served = context.IsModelAvailable(context.Model);
        if (served && !settings.ForceModelMappings) return RouteDecision.Unchanged;
        if (settings.Mappings.Map(context.Model, context.IsModelAvailable) is { } mapped)
            return new RouteDecision(mapped, null) { ResponseModel = context.Model };
        // Accounts that serve the model but are all cooling answer locally (the host's 429 says when one frees up):
        // spending Amp credits because of a rate limit would surprise whoever set up those accounts.
        if (served || context.IsModelServed?.Invoke(context.Model) == true) return RouteDecision.Unchanged;
        if (settings.UpstreamUrl is not { } upstream)
        {
            AmpWarnings.ModelNotServed(context.Model, "ampcode.upstream-url is not set", context.Log);
            return RouteDecision.Unchanged;
        }
        if (settings.ForbidInferenceFallthrough)
        {
            AmpWarnings.ModelNotServed(context.Model, "ampcode.forbid-inference-fallthrough is true", context.Log);
            return RouteDecision.Unchanged;
        }
        AmpWarnings.FallingThrough(context.Model, context.Path, upstream, context.Log);
        return RouteDecision.ForwardTo(AmpForwarder.Inference(settings, upstream, context.ClientKey));
    }

    public ForwardingDecision Forward(ForwardingContext context) => AmpForwarder.Decide(context);
}
