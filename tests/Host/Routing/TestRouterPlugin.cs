using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Routing;

/// <summary>
/// Source of a routing plugin compiled at test time (id <c>test-router</c>). Aliases: chat completions, Gemini actions,
/// model listings under <c>/api/provider/{provider}/...</c> (the provider route value pins the provider) and chat
/// completions under <c>/custom/...</c>, a path outside the protected prefixes. Forwarding route <c>threads</c>
/// (<c>/api/threads/{**rest}</c>) goes to <c>providers.test-router.upstream-url</c>, sets <c>X-Upstream-Key</c>, removes
/// <c>X-Remove-Me</c> and the <c>drop</c> query parameter, and reports what it was told in <c>X-Seen-*</c> headers;
/// paths containing <c>/reject</c> are refused with 403.
/// </summary>
internal static class TestRouterPlugin
{
    public const string Name = "TestRouter";
    public const string UpstreamKey = "sk-forward-upstream";

    public static byte[] Compile() => TestPluginCompiler.Compile(Name, "1.0.0", """
        using PluginProxy.Abstractions.Plugins;

        namespace TestRouter;

        public sealed class Router : IRoutingPlugin
        {
            public string Id => "test-router";
            public int Order => 0;

            public IReadOnlyList<RouteAlias> Routes { get; } = new[]
            {
                new RouteAlias("POST", "/api/provider/{provider}/v1/chat/completions", EndpointKind.ChatCompletions),
                new RouteAlias("POST", "/api/provider/{provider}/v1beta/models/{**action}", EndpointKind.GeminiModelAction),
                new RouteAlias("GET", "/api/provider/{provider}/v1/models", EndpointKind.OpenAIModels),
                new RouteAlias("GET", "/api/provider/{provider}/anthropic/models", EndpointKind.AnthropicModels),
                new RouteAlias("GET", "/api/provider/{provider}/v1beta/models/{model}", EndpointKind.GeminiModel),
                new RouteAlias("POST", "/custom/v1/chat/completions", EndpointKind.ChatCompletions),
            };

            public IReadOnlyList<ForwardingRoute> ForwardingRoutes { get; } = new[] { new ForwardingRoute("threads", "/api/threads/{**rest}") };

            public RouteDecision Route(RouteContext context) =>
                context.RouteValues.TryGetValue("provider", out var provider) ? new RouteDecision(null, provider) : RouteDecision.Unchanged;

            public ForwardingDecision Forward(ForwardingContext context)
            {
                if (context.Path.Contains("/reject")) return ForwardingDecision.Reject(403, "Refused by test-router.");
                return new ForwardingDecision
                {
                    Destination = context.Settings.GetString("upstream-url"),
                    SetHeaders = new Dictionary<string, string>
                    {
                        ["X-Upstream-Key"] = "sk-forward-upstream",
                        ["X-Seen-Route"] = context.Route,
                        ["X-Seen-Method"] = context.Method,
                        ["X-Seen-Loopback"] = context.FromLoopback ? "yes" : "no",
                        ["X-Seen-Client-Key"] = context.ClientKey ?? "none",
                        ["X-Seen-Auth-Header"] = context.Headers.TryGetValue("authorization", out var auth) ? auth : "none",
                    },
                    RemoveHeaders = new[] { "X-Remove-Me" },
                    RemoveQuery = new[] { "drop" },
                };
            }
        }
        """);

    /// <summary>A second router (id <c>second-router</c>, runs after the first) that claims one of the first's paths, has a broken pattern and one route of its own.</summary>
    public static byte[] CompileSecond() => TestPluginCompiler.Compile("SecondRouter", "1.0.0", """
        using PluginProxy.Abstractions.Plugins;

        namespace SecondRouter;

        public sealed class Router : IRoutingPlugin
        {
            public string Id => "second-router";
            public int Order => 5;

            public IReadOnlyList<RouteAlias> Routes { get; } = new[]
            {
                new RouteAlias("POST", "/api/provider/{provider}/v1/chat/completions", EndpointKind.Messages),
                new RouteAlias("GET", "/second/{unclosed", EndpointKind.OpenAIModels),
                new RouteAlias("GET", "/second/v1/models", EndpointKind.OpenAIModels),
            };

            public RouteDecision Route(RouteContext context) => RouteDecision.Unchanged;
        }
        """);
}
