using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Config;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// The request path, in four steps that each live in their own file: <see cref="RequestReader"/> reads and checks the
/// body against one config snapshot; <see cref="CandidateResolver"/> runs the routing plugins and finds the credentials
/// that serve the model; <see cref="FailoverLoop"/> tries them one at a time through <see cref="AttemptRunner"/>
/// (passthrough via <see cref="PassthroughRelay"/>, or translated, streaming via <see cref="TranslatedStream"/>); errors
/// reach the client in its own dialect through <see cref="ErrorWriter"/>. A routing plugin may instead send the request
/// elsewhere (<c>RouteDecision.Forward</c>), relayed by <see cref="Routing.ForwardingHandler"/>.
/// </summary>
internal sealed class ProxyHandler(ConfigStore config, PluginRuntime plugins, CandidateResolver resolver, FailoverLoop failover, Routing.ForwardingHandler forwarder)
{
    public async Task HandleAsync(HttpContext http, InferenceRequest endpoint)
    {
        var request = await RequestReader.ReadAsync(http, endpoint, config.Current);
        if (request is null) return;
        // The lease pins the plugin versions this request (and its stream) runs on; a swap changes nothing for it.
        using var lease = plugins.Acquire();
        var candidates = resolver.Resolve(request, lease.Set);
        if (request.Forward is { } forward)
        {
            await forwarder.RelayAsync(request, forward, request.ForwardedBy!);
            return;
        }
        if (candidates is null)
        {
            await ErrorWriter.WriteAsync(http, request.Client, 404,
                $"The model '{request.RoutedModel}' is not served by any configured credential. GET /v1/models lists the models available.", "model_not_found");
            return;
        }
        if (endpoint.Operation != Operation.CountTokens && http.Features.Get<RequestTrace>() is { } trace) trace.Model = request.ClientModel; // usage statistics
        await failover.RunAsync(request, lease.Set, candidates);
    }
}
