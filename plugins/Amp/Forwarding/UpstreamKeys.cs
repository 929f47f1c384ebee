using System.Collections.Concurrent;
using System.Text.Json;
using PluginProxy.Plugins.Amp.Config;

namespace PluginProxy.Plugins.Amp.Forwarding;

/// <summary>
/// The Amp key a forwarded request carries: the client key's own entry in <c>upstream-api-keys</c>, else
/// <c>upstream-api-key</c>, else the <c>AMP_API_KEY</c> environment variable, else the key Amp's CLI stored after its
/// own login (<c>~/.local/share/amp/secrets.json</c>, <c>"apiKey@https://ampcode.com/"</c>), cached five minutes.
/// </summary>
internal static class UpstreamKeys
{
    public const string EnvironmentVariable = "AMP_API_KEY";
    private const string SecretsKeyPrefix = "apiKey@";
    private const string DefaultSecretsKey = "apiKey@https://ampcode.com/";
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);

    private sealed record CachedSecret(long ExpiresAt, string? Key);

    // Per file path and lookup key; an absent file is cached too, so a missing file costs one stat per five minutes.
    private static readonly ConcurrentDictionary<string, CachedSecret> Secrets = new(StringComparer.Ordinal);

    public static string DefaultSecretsFile =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "amp", "secrets.json");

    public static string? Resolve(AmpSettings settings, string? clientKey)
    {
        if (clientKey is not null && settings.UpstreamKeysByClient.TryGetValue(clientKey, out var mapped)) return mapped;
        if (settings.UpstreamApiKey is { } configured) return configured;
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return env.Trim();
        return FromSecretsFile(ExpandHome(settings.SecretsFile) ?? DefaultSecretsFile, settings.UpstreamUrl);
    }

    private static string? ExpandHome(string? path) =>
        path is not null && path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;

    private static string? FromSecretsFile(string path, Uri? upstream)
    {
        var lookup = upstream is null ? DefaultSecretsKey : SecretsKeyPrefix + upstream.GetLeftPart(UriPartial.Authority) + "/";
        var cacheKey = path + "\n" + lookup;
        var now = Environment.TickCount64;
        if (Secrets.TryGetValue(cacheKey, out var cached) && cached.ExpiresAt > now) return cached.Key;
        var key = Read(path, lookup);
        Secrets[cacheKey] = new CachedSecret(now + (long)CacheFor.TotalMilliseconds, key);
        return key;
    }

    /// <summary>The key for the upstream's origin, else ampcode.com's; an unreadable or malformed file means no key (never an error).</summary>
    private static string? Read(string path, string lookup)
    {
        try
        {
            if (!File.Exists(path)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (var name in new[] { lookup, DefaultSecretsKey })
            {
                if (doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()))
                    return value.GetString()!.Trim();
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
