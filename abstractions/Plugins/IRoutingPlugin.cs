namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// Runs before scheduling: may rewrite the model or pin the provider, may add route aliases (extra paths served by the
/// built-in dialect endpoints) and forwarding routes (paths relayed to another server). Its routes are served while
/// the plugin is loaded and disappear when it is removed, without a restart.
/// </summary>
public interface IRoutingPlugin : IPlugin
{
    /// <summary>Lower runs first.</summary>
    int Order { get; }

    /// <summary>Extra routes; each serves a built-in endpoint under another path (for example <c>/api/provider/{provider}/v1/messages</c>).</summary>
    IReadOnlyList<RouteAlias> Routes { get; }

    /// <summary>Paths relayed to another server by the host's forwarder (YARP's <c>IHttpForwarder</c>), streaming as bytes arrive.</summary>
    IReadOnlyList<ForwardingRoute> ForwardingRoutes => [];

    /// <summary>Decide for one request; return <see cref="RouteDecision.Unchanged"/> to leave it alone.</summary>
    RouteDecision Route(RouteContext context);

    /// <summary>Where one request to a <see cref="ForwardingRoute"/> goes, decided per request from live settings.</summary>
    ForwardingDecision Forward(ForwardingContext context) => ForwardingDecision.Reject(404, "Not found.");
}

/// <summary>Built-in endpoints a <see cref="RouteAlias"/> can point at.</summary>
public enum EndpointKind
{
    ChatCompletions,
    Completions,
    Responses,
    Messages,
    CountTokens,
    GeminiModelAction,
    OpenAIModels,
    AnthropicModels,
    GeminiModels,
    /// <summary>One Gemini model's description (<c>GET .../models/{model}</c>); the pattern must capture <c>{model}</c>.</summary>
    GeminiModel,
}

/// <param name="Method">HTTP method.</param>
/// <param name="Pattern">ASP.NET route pattern; a <c>{provider}</c> value is passed to the router in <see cref="RouteContext.RouteValues"/>.
/// <see cref="EndpointKind.GeminiModelAction"/> patterns capture <c>{**action}</c> (<c>model:method</c>).</param>
/// <param name="Target">The built-in endpoint that serves it.</param>
public sealed record RouteAlias(string Method, string Pattern, EndpointKind Target);

/// <param name="Name">Names the route in <see cref="ForwardingContext.Route"/> and in logs.</param>
/// <param name="Pattern">ASP.NET route pattern, any method (for example <c>/api/threads/{**rest}</c>).</param>
public sealed record ForwardingRoute(string Name, string Pattern);

/// <summary>
/// What a router is told about one request. <see cref="RouteValues"/>, <see cref="Headers"/> and
/// <see cref="AuthHeaders"/> are read-only views of the live request (the host does not copy them per request): read
/// them during <see cref="IRoutingPlugin.Route"/> and copy what must outlive the call.
/// </summary>
public sealed class RouteContext
{
    public required string Model { get; init; }
    public required string Path { get; init; }
    /// <summary>Route values such as <c>provider</c>.</summary>
    public IReadOnlyDictionary<string, string> RouteValues { get; init; } = new Dictionary<string, string>();
    /// <summary>The client's request headers (auth headers removed).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>True when some credential that is not disabled, not cooling for it and not waiting for a login serves the given model.</summary>
    public required Func<string, bool> IsModelAvailable { get; init; }
    /// <summary>
    /// Contract 2.2: true when some credential that is not disabled serves the given model, even if every one is cooling
    /// down or waiting for a login (then the host answers with its own 429/503). Null when a caller outside the host
    /// builds the context.
    /// </summary>
    public Func<string, bool>? IsModelServed { get; init; }
    /// <summary>The routing plugin's settings from the request's config snapshot.</summary>
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;
    /// <summary>The host's log for this plugin (contract 2.1); null when a caller outside the host builds the context.</summary>
    public IPluginLog? Log { get; init; }
    /// <summary>The client key the request was authenticated with, if any (contract 2.2; for <see cref="RouteDecision.Forward"/>).</summary>
    public string? ClientKey { get; init; }
    /// <summary>True when the TCP peer is on this machine, decided from the socket (contract 2.2).</summary>
    public bool FromLoopback { get; init; }
    /// <summary>The client's auth headers too, which <see cref="Headers"/> omits; only for building a <see cref="RouteDecision.Forward"/> (contract 2.2).</summary>
    public IReadOnlyDictionary<string, string> AuthHeaders { get; init; } = new Dictionary<string, string>();
}

public sealed record RouteDecision(string? Model, string? Provider)
{
    public static readonly RouteDecision Unchanged = new(null, null);

    /// <summary>The model name answers should carry (the one the client asked for, when a mapping rewrote it); null keeps the upstream's.</summary>
    public string? ResponseModel { get; init; }

    /// <summary>
    /// Contract 2.2: serve the request elsewhere. The host relays the request exactly as the client sent it (method,
    /// path, query, body) through its forwarder to <see cref="ForwardingDecision.Destination"/>, applying the decision's
    /// header and query edits, and streams the answer back; no local account is used. A decision with an error status
    /// answers the client with that error in its dialect.
    /// </summary>
    public ForwardingDecision? Forward { get; init; }

    /// <summary>Relays the request to another server (see <see cref="Forward"/>).</summary>
    public static RouteDecision ForwardTo(ForwardingDecision decision) => new(null, null) { Forward = decision };
}

/// <summary>One request to a forwarding route.</summary>
public sealed class ForwardingContext
{
    public required string Route { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    /// <summary>The client's request headers, including its auth headers (a router may map the client's key to an upstream key).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>The client key the request was authenticated with, if any.</summary>
    public string? ClientKey { get; init; }
    /// <summary>True when the TCP peer is on this machine (decided from the socket, never from forwarding headers).</summary>
    public bool FromLoopback { get; init; }
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;
    /// <summary>The host's log for this plugin (contract 2.1).</summary>
    public IPluginLog? Log { get; init; }
}

/// <summary>Forward to <see cref="Destination"/> (scheme://host[:port][/base-path]) with headers set and removed, or answer with an error.</summary>
public sealed record ForwardingDecision
{
    public string? Destination { get; init; }
    public IReadOnlyDictionary<string, string> SetHeaders { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> RemoveHeaders { get; init; } = [];
    /// <summary>Query parameters to drop (for example a client key in <c>?key=</c>).</summary>
    public IReadOnlyList<string> RemoveQuery { get; init; } = [];
    public int? ErrorStatus { get; init; }
    public string? ErrorMessage { get; init; }

    public static ForwardingDecision Reject(int status, string message) => new() { ErrorStatus = status, ErrorMessage = message };
}
