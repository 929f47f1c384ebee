using System.Text.Json;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Plugins.Amp.Mapping;

namespace PluginProxy.Plugins.Amp.Config;

/// <summary>
/// The top-level <c>ampcode</c> block of config.yaml, parsed once per config snapshot (YAML scalars arrive as strings).
/// Unusable entries are skipped, never fatal: a typo in one mapping must not take the others down.
/// </summary>
internal sealed record AmpSettings
{
    public const string SectionName = "ampcode";

    public static readonly AmpSettings Empty = new();

    // One slot, keyed by the host's settings object (a reload brings a new one). Not a static table keyed by host objects:
    // that would keep this plugin version's load context alive after a swap for as long as the config snapshot lives.
    private sealed record Slot(PluginSettings Key, AmpSettings Value);
    private static Slot? _last;

    /// <summary>ampcode.com or a gateway in front of it; null when forwarding is off.</summary>
    public Uri? UpstreamUrl { get; init; }

    public string? UpstreamApiKey { get; init; }

    /// <summary>Client key → Amp key (<c>upstream-api-keys</c>); the first mapping of a client key wins.</summary>
    public IReadOnlyDictionary<string, string> UpstreamKeysByClient { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public bool RestrictManagementToLocalhost { get; init; }

    public ModelMappings Mappings { get; init; } = ModelMappings.Empty;

    public bool ForceModelMappings { get; init; }

    /// <summary>
    /// <c>forbid-inference-fallthrough</c> (default false): a model request no local account or mapping serves is refused
    /// locally instead of being forwarded to <see cref="UpstreamUrl"/>, where it would use Amp credits.
    /// </summary>
    public bool ForbidInferenceFallthrough { get; init; }

    /// <summary>Amp's secrets file (<c>secrets-file</c>, an addition to CLIProxyAPI's keys); null means Amp's default location.</summary>
    public string? SecretsFile { get; init; }

    /// <summary>The proxy's own <c>api-keys</c> are configured: Amp's own routes then require one of them.</summary>
    public bool ClientKeysConfigured { get; init; }

    public static AmpSettings From(PluginSettings settings)
    {
        if (Volatile.Read(ref _last) is { } last && ReferenceEquals(last.Key, settings)) return last.Value;
        var parsed = Parse(settings);
        Volatile.Write(ref _last, new Slot(settings, parsed));
        return parsed;
    }

    internal static AmpSettings Parse(PluginSettings settings)
    {
        var block = settings.Section(SectionName);
        var clientKeys = settings.Root.ValueKind == JsonValueKind.Object && settings.Root.TryGetProperty("api-keys", out var keys)
            && keys.ValueKind == JsonValueKind.Array && keys.EnumerateArray().Any(k => Text(k) is not null);
        if (block.ValueKind != JsonValueKind.Object) return Empty with { ClientKeysConfigured = clientKeys };
        return new AmpSettings
        {
            UpstreamUrl = Url(String(block, "upstream-url")),
            UpstreamApiKey = String(block, "upstream-api-key"),
            UpstreamKeysByClient = ClientKeyMap(block),
            RestrictManagementToLocalhost = Bool(block, "restrict-management-to-localhost"),
            Mappings = ModelMappings.Parse(block.TryGetProperty("model-mappings", out var m) ? m : default),
            ForceModelMappings = Bool(block, "force-model-mappings"),
            ForbidInferenceFallthrough = Bool(block, "forbid-inference-fallthrough"),
            SecretsFile = String(block, "secrets-file"),
            ClientKeysConfigured = clientKeys,
        };
    }

    private static Dictionary<string, string> ClientKeyMap(JsonElement block)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!block.TryGetProperty("upstream-api-keys", out var entries) || entries.ValueKind != JsonValueKind.Array) return map;
        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || String(entry, "upstream-api-key") is not { } upstream) continue;
            if (!entry.TryGetProperty("api-keys", out var clients) || clients.ValueKind != JsonValueKind.Array) continue;
            foreach (var client in clients.EnumerateArray())
            {
                if (Text(client) is { } key) map.TryAdd(key, upstream);
            }
        }
        return map;
    }

    private static Uri? Url(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : null;

    internal static string? String(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var value) ? Text(value) : null;

    internal static bool Bool(JsonElement obj, string key) => String(obj, key)?.ToLowerInvariant() is "true" or "1" or "yes" or "on";

    private static string? Text(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }
}
