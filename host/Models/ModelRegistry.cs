using System.Collections.Frozen;
using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Models;

/// <summary>A credential that can serve a client model id, and the name to send upstream.</summary>
internal sealed record ModelRoute(CredentialRecord Credential, string UpstreamModel);

/// <summary>A model as listed to clients. Built from host-owned copies of plugin catalogs, so it never pins a plugin.</summary>
internal sealed record ListedModel(string Id, string OwnedBy, long Created, string? DisplayName, string? Description,
    int? InputTokenLimit, int? OutputTokenLimit, ThinkingSupport? Thinking, ImmutableArray<string> Providers);

/// <summary>Which credentials serve which client model ids, at one moment. Immutable.</summary>
internal sealed class RegistrySnapshot
{
    public static readonly RegistrySnapshot Empty = new(0, new Dictionary<string, List<ModelRoute>>(), []);

    public RegistrySnapshot(long revision, Dictionary<string, List<ModelRoute>> routes, ImmutableArray<ListedModel> models)
    {
        Revision = revision;
        Routes = routes.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.Ordinal);
        // Clients are loose about case ("GPT-5"); an exact id wins, otherwise the first id equal ignoring case.
        var byLowerCase = routes.GroupBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(kv => kv.Key, StringComparer.Ordinal).First()).ToList();
        RoutesIgnoringCase = byLowerCase.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.OrdinalIgnoreCase);
        IdIgnoringCase = byLowerCase.ToFrozenDictionary(kv => kv.Key, kv => kv.Key, StringComparer.OrdinalIgnoreCase);
        Models = models;
    }

    public long Revision { get; }

    /// <summary>Client model id to the credentials serving it, in credential-id order.</summary>
    public FrozenDictionary<string, ImmutableArray<ModelRoute>> Routes { get; }

    private FrozenDictionary<string, ImmutableArray<ModelRoute>> RoutesIgnoringCase { get; }

    private FrozenDictionary<string, string> IdIgnoringCase { get; }

    /// <summary>Every servable model, sorted by id.</summary>
    public ImmutableArray<ListedModel> Models { get; }

    public ImmutableArray<ModelRoute> RoutesFor(string model) => Resolve(model).Routes;

    /// <summary>The registered id a requested model resolves to (exact, else ignoring case) and its routes; empty routes when none.</summary>
    public (string Id, ImmutableArray<ModelRoute> Routes) Resolve(string model)
    {
        if (Routes.TryGetValue(model, out var exact)) return (model, exact);
        if (RoutesIgnoringCase.TryGetValue(model, out var routes)) return (IdIgnoringCase[model], routes);
        return (model, []);
    }
}

/// <summary>
/// Rebuilds the <see cref="RegistrySnapshot"/> whenever credentials, plugins or the config change. For each credential:
/// its own <c>models</c> list (alias to upstream name) or else its provider's catalog; minus <c>excluded-models</c>
/// (API-key entries) or <c>oauth-excluded-models[provider]</c> (credential files); renamed by
/// <c>oauth-model-alias[provider]</c> for credential files (<c>fork: true</c> keeps the original id too); and with a
/// <c>prefix</c>, served as <c>prefix/id</c> as well — or only, with <c>force-model-prefix</c>.
/// </summary>
internal sealed class ModelRegistry
{
    private readonly Lock _rebuildGate = new();
    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Rebuilds from the stores' current values, read inside the lock so a racing rebuild never publishes stale inputs.</summary>
    public void Rebuild(CredentialStore credentialStore, PluginRuntime pluginRuntime, ConfigStore configStore)
    {
        lock (_rebuildGate)
        {
            var (credentials, plugins, config) = (credentialStore.Current, pluginRuntime.Current, configStore.Config);
            var routes = new Dictionary<string, List<ModelRoute>>(StringComparer.Ordinal);
            var listed = new Dictionary<string, (ListedModel Model, SortedSet<string> Providers)>(StringComparer.Ordinal);
            foreach (var credential in credentials.All)
            {
                if (credential.Disabled || plugins.ProviderFor(credential.Type) is not { } provider) continue;
                foreach (var (clientId, upstream, info) in ModelsOf(credential, plugins.CatalogOf(provider), config))
                {
                    foreach (var id in ClientIds(credential.Prefix, clientId, config.ForceModelPrefix))
                    {
                        if (!routes.TryGetValue(id, out var list)) routes[id] = list = [];
                        if (list.Any(r => r.Credential.Id == credential.Id)) continue;
                        list.Add(new ModelRoute(credential, upstream));
                        if (!listed.TryGetValue(id, out var entry))
                            listed[id] = entry = (ToListed(id, info, credential), new SortedSet<string>(StringComparer.Ordinal));
                        entry.Providers.Add(credential.Provider);
                    }
                }
            }
            var snapshot = new RegistrySnapshot(_current.Revision + 1, routes,
                [.. listed.Values.Select(e => e.Model with { Providers = [.. e.Providers] }).OrderBy(m => m.Id, StringComparer.Ordinal)]);
            Volatile.Write(ref _current, snapshot);
        }
    }

    /// <summary>(client id, upstream name, catalog entry) for one credential, after exclusions and OAuth aliases.</summary>
    internal static IEnumerable<(string ClientId, string Upstream, ModelInfo? Info)> ModelsOf(CredentialRecord credential, IReadOnlyList<ModelInfo> catalog, ProxyConfig config)
    {
        var models = credential.Models.Count > 0
            ? credential.Models.Select(m => (m.Alias, m.Name, catalog.FirstOrDefault(c => string.Equals(c.Id, m.Name, StringComparison.OrdinalIgnoreCase))))
            : catalog.Select(m => (m.Id, m.Id, (ModelInfo?)m));
        var excluded = credential.Source == CredentialSource.Config
            ? credential.ExcludedModels
            : LookupIgnoringCase(config.OauthExcludedModels, credential.Provider)?.Select(p => p.Trim().ToLowerInvariant()).ToList() ?? [];
        var aliases = credential.Source != CredentialSource.Config ? LookupIgnoringCase(config.OauthModelAlias, credential.Provider) : null;
        foreach (var (clientId, upstream, info) in models)
        {
            if (excluded.Count > 0 && ModelPattern.MatchesAny(excluded, clientId.ToLowerInvariant())) continue;
            var renames = aliases?.Where(a => string.Equals(a.Name?.Trim(), clientId, StringComparison.OrdinalIgnoreCase)
                                              && !string.IsNullOrWhiteSpace(a.Alias)).ToList();
            if (renames is not { Count: > 0 })
            {
                yield return (clientId, upstream, info);
                continue;
            }
            if (renames.Any(r => r.Fork)) yield return (clientId, upstream, info);
            foreach (var rename in renames) yield return (rename.Alias!.Trim(), upstream, info);
        }
    }

    internal static IEnumerable<string> ClientIds(string? prefix, string id, bool forcePrefix)
    {
        if (prefix is null)
        {
            yield return id;
            yield break;
        }
        if (!forcePrefix) yield return id;
        yield return $"{prefix}/{id}";
    }

    private static T? LookupIgnoringCase<T>(Dictionary<string, T> map, string key) where T : class =>
        map.TryGetValue(key, out var exact) ? exact : map.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    // The catalog is the host's copy made at load time (PluginSet.CatalogOf), so nothing here references plugin objects.
    private static ListedModel ToListed(string id, ModelInfo? info, CredentialRecord credential) => new(
        id,
        string.IsNullOrEmpty(info?.OwnedBy) ? credential.Provider : info.OwnedBy,
        info?.Created ?? 0,
        info?.DisplayName,
        info?.Description,
        info?.InputTokenLimit,
        info?.OutputTokenLimit,
        info?.Thinking,
        []);
}
