using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Amp.Routes;

/// <summary>Who may use a forwarding route and with which methods.</summary>
internal enum RouteAccess
{
    /// <summary><c>/api/...</c>: the CLI's API calls; a proxy client key is required when <c>api-keys</c> is set; no CORS preflight.</summary>
    Api,
    /// <summary>Root pages the browser opens (<c>/threads</c>, <c>/docs</c>, <c>/settings</c>): GET only, no proxy key required.</summary>
    Page,
    /// <summary>Root <c>/auth</c>: the login flow, any method, no proxy key required.</summary>
    Auth,
    /// <summary><c>/threads.rss</c>, <c>/news.rss</c>: GET with a proxy key.</summary>
    Feed,
}

internal sealed record AmpForwardingRoute(string Name, string Pattern, RouteAccess Access);

/// <summary>
/// Amp's paths. Model traffic under <c>/api/provider/{provider}/...</c> is served locally by the built-in endpoints; the
/// <c>{provider}</c> segment only picks the listing shape (a literal <c>anthropic</c> or <c>google</c> segment wins over
/// the parameter in ASP.NET's route precedence). Everything else Amp calls is relayed to <c>ampcode.upstream-url</c>.
/// </summary>
internal static class AmpRoutes
{
    private const string Provider = "/api/provider/{provider}";

    public static readonly IReadOnlyList<RouteAlias> Aliases = BuildAliases();

    public static readonly IReadOnlyList<AmpForwardingRoute> Forwarding =
    [
        .. new[] { "internal", "user", "auth", "meta", "threads", "telemetry", "otel", "tab", "ads" }
            .Select(name => new AmpForwardingRoute("api-" + name, $"/api/{name}/{{**rest}}", RouteAccess.Api)),
        // Vertex-style paths other than model calls (those are aliases below, which win on precedence for POST).
        new("provider-v1beta1", Provider + "/v1beta1/{**rest}", RouteAccess.Api),
        new("auth", "/auth/{**rest}", RouteAccess.Auth),
        new("threads", "/threads/{**rest}", RouteAccess.Page),
        new("docs", "/docs/{**rest}", RouteAccess.Page),
        new("settings", "/settings/{**rest}", RouteAccess.Page),
        new("threads-rss", "/threads.rss", RouteAccess.Feed),
        new("news-rss", "/news.rss", RouteAccess.Feed),
    ];

    private static readonly Dictionary<string, AmpForwardingRoute> ByName = Forwarding.ToDictionary(r => r.Name, StringComparer.Ordinal);

    public static readonly IReadOnlyList<ForwardingRoute> ForwardingRoutes = [.. Forwarding.Select(r => new ForwardingRoute(r.Name, r.Pattern))];

    public static AmpForwardingRoute? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>True for the paths whose model requests Amp's mappings apply to.</summary>
    public static bool IsProviderPath(string path) => path.StartsWith("/api/provider/", StringComparison.OrdinalIgnoreCase);

    private static List<RouteAlias> BuildAliases()
    {
        var aliases = new List<RouteAlias>();
        foreach (var listing in new[] { "/models", "/v1/models" })
        {
            aliases.Add(new("GET", "/api/provider/anthropic" + listing, EndpointKind.AnthropicModels));
            aliases.Add(new("GET", "/api/provider/google" + listing, EndpointKind.GeminiModels));
            aliases.Add(new("GET", Provider + listing, EndpointKind.OpenAIModels));
        }
        foreach (var prefix in new[] { "", "/v1" })
        {
            aliases.Add(new("POST", Provider + prefix + "/chat/completions", EndpointKind.ChatCompletions));
            aliases.Add(new("POST", Provider + prefix + "/completions", EndpointKind.Completions));
            aliases.Add(new("POST", Provider + prefix + "/responses", EndpointKind.Responses));
        }
        aliases.Add(new("POST", Provider + "/v1/messages", EndpointKind.Messages));
        aliases.Add(new("POST", Provider + "/v1/messages/count_tokens", EndpointKind.CountTokens));
        aliases.Add(new("GET", Provider + "/v1beta/models", EndpointKind.GeminiModels));
        aliases.Add(new("POST", Provider + "/v1beta/models/{**action}", EndpointKind.GeminiModelAction));
        aliases.Add(new("GET", Provider + "/v1beta/models/{**model}", EndpointKind.GeminiModel));
        // Amp's Vertex-style Gemini calls; served locally whether or not an upstream is configured (unlike CLIProxyAPI).
        aliases.Add(new("POST", Provider + "/v1beta1/publishers/google/models/{**action}", EndpointKind.GeminiModelAction));
        return aliases;
    }
}
