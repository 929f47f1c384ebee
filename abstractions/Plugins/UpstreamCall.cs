using System.Text.Json.Nodes;
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

    /// <summary>
    /// The client for this attempt. Do not dispose. The host's concerns travel inside it, so every executor gets them
    /// whatever it implements: the credential's configured headers, the operator's payload rules (applied to JSON request
    /// bodies), the first-byte and stream-idle timeouts, and the credential's outbound proxy.
    /// </summary>
    public required HttpClient Http { get; init; }

    public required IPluginLog Log { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The plugin's <c>providers.&lt;id&gt;</c> settings from the request's config snapshot.</summary>
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;

    /// <summary>Client request headers an executor may forward (for example <c>anthropic-beta</c>). Never contains auth headers.</summary>
    public IReadOnlyDictionary<string, string> ClientHeaders { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Saves what the plugin discovered about the credential (a Gemini <c>project_id</c>, a Qwen <c>resource_url</c>): the
    /// edit is applied to the credential file's current JSON, which the host writes atomically (mode 0600) without
    /// reloading itself. No-op for credentials that are not files.
    /// </summary>
    public Func<Action<JsonObject>, CancellationToken, Task> UpdateCredentialAsync { get; init; } = static (_, _) => Task.CompletedTask;
}

/// <summary>
/// The thinking suffix of <c>model(value)</c>: <c>none</c>, <c>auto</c>/<c>-1</c>, a level, or a budget.
/// Exactly one of <see cref="Level"/> and <see cref="Budget"/> is set.
/// </summary>
public sealed record ReasoningSuffix(string? Level, int? Budget)
{
    public string Raw { get; init; } = "";
}
