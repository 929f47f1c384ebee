using System.Security.Cryptography;
using System.Text;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// Turns the API-key blocks of config.yaml into credential records, with CLIProxyAPI's stable ids
/// (<c>kind:</c> + 12 hex of SHA-256 over the identifying fields), so cooldown state survives reloads.
/// </summary>
internal static class ConfigCredentials
{
    public const string OpenAICompatibilityType = "openai-compatibility";

    public static List<CredentialRecord> Synthesize(ProxyConfig config)
    {
        var result = new List<CredentialRecord>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        AddKeyed(result, ids, config.GeminiApiKey, "gemini", requireBaseUrl: false);
        AddKeyed(result, ids, config.ClaudeApiKey, "claude", requireBaseUrl: false);
        AddKeyed(result, ids, config.CodexApiKey, "codex", requireBaseUrl: true);
        AddKeyed(result, ids, config.VertexApiKey, "vertex", requireBaseUrl: true);
        foreach (var entry in config.OpenaiCompatibility)
        {
            if (string.IsNullOrWhiteSpace(entry.BaseUrl) || string.IsNullOrWhiteSpace(entry.Name)) continue;
            var name = entry.Name.Trim();
            var provider = name.ToLowerInvariant();
            var kind = $"{OpenAICompatibilityType}:{provider}";
            var keys = entry.ApiKeyEntries.Where(k => !string.IsNullOrWhiteSpace(k.ApiKey)).ToList();
            var models = Models(entry.Models);
            if (keys.Count == 0)
            {
                Add(result, ids, Record(kind, [entry.BaseUrl], OpenAICompatibilityType, provider, name, null, entry.BaseUrl, null, entry.Priority, entry.Prefix, entry.Headers, models, []));
                continue;
            }
            foreach (var key in keys)
                Add(result, ids, Record(kind, [key.ApiKey!, entry.BaseUrl, key.ProxyUrl ?? ""], OpenAICompatibilityType, provider, name, key.ApiKey, entry.BaseUrl, key.ProxyUrl, entry.Priority, entry.Prefix, entry.Headers, models, []));
        }
        return result;
    }

    private static void AddKeyed(List<CredentialRecord> result, HashSet<string> ids, List<ApiKeyEntry> entries, string type, bool requireBaseUrl)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.ApiKey)) continue;
            if (requireBaseUrl && string.IsNullOrWhiteSpace(entry.BaseUrl)) continue;
            var key = entry.ApiKey.Trim();
            if (!seen.Add(key + "\0" + entry.BaseUrl)) continue;
            var record = Record($"{type}:apikey", [key, entry.BaseUrl ?? ""], type, type, $"{type}-apikey", key, entry.BaseUrl, entry.ProxyUrl,
                entry.Priority, entry.Prefix, entry.Headers, Models(entry.Models), entry.ExcludedModels);
            Add(result, ids, entry.Cloak is { } cloak ? record with { Metadata = CloakMetadata(cloak) } : record);
        }
    }

    // The plugin reads the entry's cloak block from the credential's metadata, as it would an auth file's fields.
    private static System.Text.Json.JsonElement CloakMetadata(CloakEntry cloak)
    {
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["cloak"] = new System.Text.Json.Nodes.JsonObject
            {
                ["mode"] = cloak.Mode?.Trim() ?? "auto",
                ["strict-mode"] = cloak.StrictMode,
                ["sensitive-words"] = new System.Text.Json.Nodes.JsonArray([.. cloak.SensitiveWords.Select(w => (System.Text.Json.Nodes.JsonNode?)w)]),
            },
        };
        return System.Text.Json.JsonSerializer.SerializeToElement(json);
    }

    private static CredentialRecord Record(string kind, string[] parts, string type, string provider, string label, string? apiKey, string? baseUrl,
        string? proxyUrl, int priority, string? prefix, Dictionary<string, string> headers, List<ModelAlias> models, List<string> excluded) => new()
    {
        Id = StableId(kind, parts),
        Type = type,
        Provider = provider,
        Label = label,
        Source = CredentialSource.Config,
        ApiKey = apiKey?.Trim(),
        BaseUrl = string.IsNullOrWhiteSpace(baseUrl) ? null : baseUrl.Trim().TrimEnd('/'),
        ProxyUrl = string.IsNullOrWhiteSpace(proxyUrl) ? null : proxyUrl.Trim(),
        Priority = priority,
        Prefix = AuthFileParser.NormalizePrefix(prefix),
        Headers = headers
            .Where(h => !string.IsNullOrWhiteSpace(h.Key) && !string.IsNullOrWhiteSpace(h.Value))
            .ToDictionary(h => h.Key.Trim(), h => h.Value.Trim(), StringComparer.OrdinalIgnoreCase),
        Models = models,
        ExcludedModels = excluded.Select(e => e.Trim().ToLowerInvariant()).Where(e => e.Length > 0).Distinct().ToList(),
    };

    private static List<ModelAlias> Models(List<ModelAliasEntry> entries) =>
        entries.Where(m => !string.IsNullOrWhiteSpace(m.Name))
            .Select(m => new ModelAlias(m.Name!.Trim(), string.IsNullOrWhiteSpace(m.Alias) ? m.Name!.Trim() : m.Alias.Trim()))
            .ToList();

    // Ids repeat when the same key is listed twice with different settings; suffix them as CLIProxyAPI does.
    private static void Add(List<CredentialRecord> result, HashSet<string> ids, CredentialRecord record)
    {
        var id = record.Id;
        for (var n = 1; !ids.Add(id); n++) id = $"{record.Id}-{n}";
        result.Add(id == record.Id ? record : record with { Id = id });
    }

    internal static string StableId(string kind, IEnumerable<string> parts)
    {
        var text = kind + "\0" + string.Join('\0', parts);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return $"{kind}:{hash[..12]}";
    }
}
