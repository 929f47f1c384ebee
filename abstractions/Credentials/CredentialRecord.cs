using System.Text.Json;

namespace PluginProxy.Abstractions.Credentials;

public enum CredentialSource
{
    /// <summary>A JSON file in auth-dir.</summary>
    File,
    /// <summary>An API-key entry in config.yaml.</summary>
    Config,
    /// <summary>Held in memory while something lasts, such as a relay connection (contract 2.2; see <c>IRuntimeCredentials</c>).</summary>
    Runtime,
}

/// <summary>
/// One upstream account, immutable. File credentials carry the file's JSON in <see cref="Metadata"/>;
/// config credentials carry <see cref="ApiKey"/>/<see cref="BaseUrl"/>. <see cref="ToString"/> never prints secrets
/// (it is declared, so the record does not synthesize one that would print every field).
/// </summary>
public sealed record CredentialRecord
{
    /// <summary>File credentials: the file name relative to auth-dir. Config credentials: <c>kind:hash12</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Credential type, which selects the owning plugin (<c>claude</c>, <c>gemini-cli</c>, <c>openai-compatibility</c>, ...).</summary>
    public required string Type { get; init; }

    /// <summary>Routing channel: usually <see cref="Type"/>; the lower-cased entry name for openai-compatibility.</summary>
    public required string Provider { get; init; }

    /// <summary>Human label for logs and listings (email, file name, or entry name). Never a secret.</summary>
    public required string Label { get; init; }

    public CredentialSource Source { get; init; }

    public string? Prefix { get; init; }

    /// <summary>Higher is preferred (config credentials only).</summary>
    public int Priority { get; init; }

    /// <summary>Share of requests under <c>routing.strategy: weighted-round-robin</c> (contract 2.2): default 1, 0 = never chosen.</summary>
    public int Weight { get; init; } = 1;

    public string? ProxyUrl { get; init; }

    public bool Disabled { get; init; }

    public string? ApiKey { get; init; }

    public string? BaseUrl { get; init; }

    /// <summary>Extra headers sent upstream with every request on this credential.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Per-credential model list (upstream name and client alias); when non-empty it replaces the plugin catalog.</summary>
    public IReadOnlyList<ModelAlias> Models { get; init; } = [];

    /// <summary>Model patterns this credential must not serve (exact, <c>prefix*</c>, <c>*suffix</c>, <c>*sub*</c>).</summary>
    public IReadOnlyList<string> ExcludedModels { get; init; } = [];

    /// <summary>Per-credential overrides (<c>disable_cooling</c>, <c>request_retry</c>); null = use the global setting.</summary>
    public bool? DisableCooling { get; init; }
    public int? RequestRetry { get; init; }

    /// <summary>When the access token expires, when known (the host reads it from the file; see <c>IAuthenticator.ExpiresAt</c>).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The auth file's JSON object (tokens and provider fields). Default for config credentials.</summary>
    public JsonElement Metadata { get; init; }

    /// <summary>Absolute path of the auth file, for file credentials.</summary>
    public string? FilePath { get; init; }

    /// <summary>Reads a string field of <see cref="Metadata"/>, or null.</summary>
    public string? GetString(string name) =>
        Metadata.ValueKind == JsonValueKind.Object && Metadata.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public override string ToString() => $"{Type}:{Label} ({Id})";
}

/// <param name="Name">Model name sent upstream.</param>
/// <param name="Alias">Model id clients use; equals <paramref name="Name"/> when no alias was given.</param>
public sealed record ModelAlias(string Name, string Alias);
