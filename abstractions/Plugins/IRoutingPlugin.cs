namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// Runs before scheduling: may rewrite the model or pin the provider, and may add route aliases
/// (extra paths served by the built-in dialect endpoints).
/// </summary>
public interface IRoutingPlugin : IPlugin
{
    /// <summary>Lower runs first.</summary>
    int Order { get; }

    /// <summary>Extra routes; each serves a built-in endpoint under another path (for example <c>/api/provider/{provider}/v1/messages</c>).</summary>
    IReadOnlyList<RouteAlias> Routes { get; }

    /// <summary>Decide for one request; return <see cref="RouteDecision.Unchanged"/> to leave it alone.</summary>
    RouteDecision Route(RouteContext context);
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
}

/// <param name="Method">HTTP method.</param>
/// <param name="Pattern">ASP.NET route pattern; a <c>{provider}</c> value pins the provider.</param>
/// <param name="Target">The built-in endpoint that serves it.</param>
public sealed record RouteAlias(string Method, string Pattern, EndpointKind Target);

public sealed class RouteContext
{
    public required string Model { get; init; }
    public required string Path { get; init; }
    /// <summary>Route values such as <c>provider</c>.</summary>
    public IReadOnlyDictionary<string, string> RouteValues { get; init; } = new Dictionary<string, string>();
    /// <summary>True when some usable credential serves the given model.</summary>
    public required Func<string, bool> IsModelAvailable { get; init; }
}

public sealed record RouteDecision(string? Model, string? Provider)
{
    public static readonly RouteDecision Unchanged = new(null, null);
}
