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

    public static List<CredentialRecord> Synthesize(ProxyConfig config) => SynthesizeCore(config, null);

    /// <summary>The <c>request-scoped-errors</c> of the entries that have some, by the id of each credential they made.</summary>
    public static Dictionary<string, List<RequestScopedErrorRule>> RequestScopedErrorsById(ProxyConfig config)
    {
        var rules = new Dictionary<string, List<RequestScopedErrorRule>>(StringComparer.Ordinal);
        SynthesizeCore(config, rules);
        return rules;
    }

    private static List<CredentialRecord> SynthesizeCore(ProxyConfig config, Dictionary<string, List<RequestScopedErrorRule>>? rules)
    {
        var result = new List<CredentialRecord>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        AddKeyed(result, ids, config.GeminiApiKey, "gemini", requireBaseUrl: false, rules);
        AddKeyed(result, ids, config.ClaudeApiKey, "claude", requireBaseUrl: false, rules);
        AddKeyed(result, ids, config.CodexApiKey, "codex", requireBaseUrl: true, rules);
        AddKeyed(result, ids, config.VertexApiKey, "vertex", requireBaseUrl: true, rules);
        foreach (var entry in config.OpenaiCompatibility)
        {
            if (string.IsNullOrWhiteSpace(entry.BaseUrl) || string.IsNullOrWhiteSpace(entry.Name)) continue;
            // disabled: kept in the file, serves nothing (CLIProxyAPI's switch to park a provider without deleting it).
            if (entry.Disabled) continue;
            var name = entry.Name.Trim();
            var provider = name.ToLowerInvariant();
            var kind = $"{OpenAICompatibilityType}:{provider}";
            var keys = entry.ApiKeyEntries.Where(k => !string.IsNullOrWhiteSpace(k.ApiKey)).ToList();
            var models = Models(entry.Models);
            if (keys.Count == 0)
            {
                var id = Add(result, ids, Record(kind, [entry.BaseUrl], OpenAICompatibilityType, provider, name, null, entry.BaseUrl, null, entry.Priority, entry.Prefix, entry.Headers, models, [])
                    with { DisableCooling = entry.DisableCooling, RequestRetry = NonNegative(entry.RequestRetry) });
                Remember(rules, id, entry.RequestScopedErrors);
                continue;
            }
            foreach (var key in keys)
            {
                var id = Add(result, ids, Record(kind, [key.ApiKey!, entry.BaseUrl, key.ProxyUrl ?? ""], OpenAICompatibilityType, provider, name, key.ApiKey, entry.BaseUrl, key.ProxyUrl, entry.Priority, entry.Prefix, entry.Headers, models, [])
                    with { Weight = key.Weight, DisableCooling = entry.DisableCooling, RequestRetry = NonNegative(entry.RequestRetry) });
                Remember(rules, id, entry.RequestScopedErrors);
            }
        }
        return result;
    }

    // CLIProxyAPI: an omitted or negative per-entry request-retry inherits the global value.
    private static int? NonNegative(int? value) => value is >= 0 ? value : null;

    private static void Remember(Dictionary<string, List<RequestScopedErrorRule>>? rules, string id, List<RequestScopedErrorRule>? entryRules)
    {
        if (rules is not null && entryRules is { Count: > 0 }) rules[id] = entryRules;
    }

    private static void AddKeyed(List<CredentialRecord> result, HashSet<string> ids, List<ApiKeyEntry> entries, string type, bool requireBaseUrl,
        Dictionary<string, List<RequestScopedErrorRule>>? rules)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.ApiKey)) continue;
            if (requireBaseUrl && string.IsNullOrWhiteSpace(entry.BaseUrl)) continue;
            var key = entry.ApiKey.Trim();
            if (!seen.Add(key + "\0" + entry.BaseUrl)) continue;
            var record = Record($"{type}:apikey", [key, entry.BaseUrl ?? ""], type, type, $"{type}-apikey", key, entry.BaseUrl, entry.ProxyUrl,
                entry.Priority, entry.Prefix, entry.Headers, Models(entry.Models), entry.ExcludedModels)
                with { Weight = entry.Weight, DisableCooling = entry.DisableCooling, RequestRetry = NonNegative(entry.RequestRetry) };
            var id = Add(result, ids, entry.Cloak is { } cloak ? record with { Metadata = CloakMetadata(cloak) } : record);
            Remember(rules, id, entry.RequestScopedErrors);
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
    private static string Add(List<CredentialRecord> result, HashSet<string> ids, CredentialRecord record)
    {
        var id = record.Id;
        for (var n = 1; !ids.Add(id); n++) id = $"{record.Id}-{n}";
        result.Add(id == record.Id ? record : record with { Id = id });
        return id;
    }

    internal static string StableId(string kind, IEnumerable<string> parts)
    {
        var text = kind + "\0" + string.Join('\0', parts);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return $"{kind}:{hash[..12]}";
    }
}
