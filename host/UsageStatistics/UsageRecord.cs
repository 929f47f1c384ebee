using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// Who and what a request used: the client key's label (never the key), the provider, the credential (id and label;
/// neither is a secret) and the model the client asked for (without a thinking suffix).
/// </summary>
internal readonly record struct UsageDimensions(string ClientKey, string Provider, string CredentialId, string Credential, string Model)
{
    public static readonly UsageDimensions Other = new(UsageAggregator.Other, UsageAggregator.Other, UsageAggregator.Other, UsageAggregator.Other, UsageAggregator.Other);
}

/// <summary>Tokens as the canonical model counts them: input includes cached, output includes reasoning.</summary>
internal readonly record struct UsageTokens(long Input, long Output, long Reasoning, long Cached, long Total)
{
    public static UsageTokens From(PluginProxy.Abstractions.Canonical.Usage? usage) =>
        usage is null ? default : new(usage.InputTokens, usage.OutputTokens, usage.ReasoningTokens, usage.CachedInputTokens, usage.Total);

    /// <summary>CLIProxyAPI's rule for imported records without a total.</summary>
    public UsageTokens Normalised()
    {
        if (Total != 0) return this;
        var total = Input + Output + Reasoning;
        return this with { Total = total != 0 ? total : total + Cached };
    }
}

/// <summary>One finished inference request. <see cref="Timestamp"/> is when it started (UTC).</summary>
internal readonly record struct UsageRecord(DateTimeOffset Timestamp, UsageDimensions Dimensions, bool Failed, long LatencyMs, UsageTokens Tokens)
{
    /// <summary>
    /// CLIProxyAPI's import de-duplication key (client key, model, time, source, auth index, failed, tokens): an export
    /// imported twice adds nothing the second time. The provider and latency are not part of it, as there. A value
    /// (compared field by field), not a hash: the database finds candidates through its (client key, model, time) index.
    /// </summary>
    public UsageDedupKey DedupKey() => new(Dimensions.ClientKey, Dimensions.Model, Timestamp.UtcTicks, Dimensions.Credential, Dimensions.CredentialId, Failed, Tokens);
}

/// <summary>The fields CLIProxyAPI's import compares (see <see cref="UsageRecord.DedupKey"/>).</summary>
internal readonly record struct UsageDedupKey(string ClientKey, string Model, long UtcTicks, string Credential, string CredentialId, bool Failed, UsageTokens Tokens);

/// <summary>How a client key appears in statistics: a short salted hash, stable across restarts, that never reveals the key.</summary>
internal static class ClientKeyLabel
{
    private const string Prefix = "key-";

    /// <summary>Labels already computed, by key: the keys reaching <see cref="Cached"/> are the configured ones, so this stays small.</summary>
    private static readonly ConcurrentDictionary<string, string> Labels = new(StringComparer.Ordinal);
    internal const int MaxCached = 4096;
    internal static int CachedCount => Labels.Count;

    /// <summary><see cref="Of"/> without a hash per request (the request path's call).</summary>
    public static string Cached(string key)
    {
        if (Labels.TryGetValue(key, out var label)) return label;
        label = Of(key);
        if (Labels.Count >= MaxCached) Labels.Clear(); // keys rotated many times over: start again rather than grow
        Labels.TryAdd(key, label);
        return label;
    }

    public static string Of(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("pluginproxy-usage\0" + key), hash);
        return Prefix + Convert.ToHexStringLower(hash[..4]);
    }

    /// <summary>
    /// An imported client-key name: kept when it is already a label (ours, "(other)", or CLIProxyAPI's "METHOD /path"
    /// for keyless requests), otherwise treated as a raw key (CLIProxyAPI exports show keys) and labelled.
    /// </summary>
    public static string FromImported(string name)
    {
        if (name == UsageAggregator.Other || name.Contains(' ')) return name;
        if (name.Length == Prefix.Length + 8 && name.StartsWith(Prefix, StringComparison.Ordinal) && name.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") == false)
            return name;
        return Of(name);
    }
}
