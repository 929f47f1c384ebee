using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>Everything one upstream attempt needs, supplied by the host.</summary>
public sealed class UpstreamCall
{
    public required CredentialRecord Credential { get; init; }

    /// <summary>The model to send upstream: prefix stripped, alias resolved, thinking suffix removed.</summary>
    public required string UpstreamModel { get; init; }

    /// <summary>Parsed <c>model(value)</c> suffix, if the client used one; it overrides body reasoning settings.</summary>
    public ReasoningSuffix? ReasoningSuffix { get; init; }

    /// <summary>Pooled client for this credential's proxy setting. Do not dispose.</summary>
    public required HttpClient Http { get; init; }

    public required IPluginLog Log { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// The operator's payload rules (config <c>payload:</c>) for this call. Executors call it on the encoded upstream body
    /// just before sending; it edits the body in place. Null when no rule applies.
    /// </summary>
    public Action<System.Text.Json.Nodes.JsonObject>? EditBody { get; init; }

    /// <summary>Client request headers an executor may forward (for example <c>anthropic-beta</c>). Never contains auth headers.</summary>
    public IReadOnlyDictionary<string, string> ClientHeaders { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The thinking suffix of <c>model(value)</c>: <c>none</c>, <c>auto</c>/<c>-1</c>, a level, or a budget.
/// Exactly one of <see cref="Level"/> and <see cref="Budget"/> is set.
/// </summary>
public sealed record ReasoningSuffix(string? Level, int? Budget)
{
    public string Raw { get; init; } = "";
}
