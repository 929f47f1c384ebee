using System.Collections.Frozen;
using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Models;

/// <summary>A credential that can serve a client model id, and the name to send upstream.</summary>
public sealed record ModelRoute(CredentialRecord Credential, string UpstreamModel);

/// <summary>A model as listed to clients. Built from host-owned copies of plugin catalogs, so it never pins a plugin.</summary>
public sealed record ListedModel(string Id, string OwnedBy, long Created, string? DisplayName, string? Description,
    int? InputTokenLimit, int? OutputTokenLimit, ThinkingSupport? Thinking, ImmutableArray<string> Providers);

/// <summary>Which credentials serve which client model ids, at one moment. Immutable.</summary>
public sealed class RegistrySnapshot
{
    public static readonly RegistrySnapshot Empty = new(FrozenDictionary<string, ImmutableArray<ModelRoute>>.Empty, []);

    public RegistrySnapshot(FrozenDictionary<string, ImmutableArray<ModelRoute>> routes, ImmutableArray<ListedModel> models)
    {
        Routes = routes;
        Models = models;
    }

    /// <summary>Client model id to the credentials serving it, in credential-id order.</summary>
    public FrozenDictionary<string, ImmutableArray<ModelRoute>> Routes { get; }

    /// <summary>Every servable model, sorted by id.</summary>
    public ImmutableArray<ListedModel> Models { get; }

    public ImmutableArray<ModelRoute> RoutesFor(string model) => Routes.GetValueOrDefault(model, []);
}

/// <summary>
/// Rebuilds the <see cref="RegistrySnapshot"/> whenever credentials or plugins change. A credential serves the models
/// of its own <c>models</c> list when it has one (alias to upstream name), else its provider plugin's catalog;
/// a credential with a <c>prefix</c> also serves <c>prefix/model</c>.
/// </summary>
public sealed class ModelRegistry
{
    private readonly Lock _rebuildGate = new();
    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    public RegistrySnapshot Current => Volatile.Read(ref _current);

    public void Rebuild(CredentialSnapshot credentials, PluginSet plugins)
    {
        lock (_rebuildGate)
        {
            var routes = new Dictionary<string, List<ModelRoute>>(StringComparer.Ordinal);
            var listed = new Dictionary<string, (ListedModel Model, SortedSet<string> Providers)>(StringComparer.Ordinal);
            foreach (var credential in credentials.All)
            {
                if (credential.Disabled || plugins.ProviderFor(credential.Type) is not { } provider) continue;
                foreach (var (clientId, upstream, info) in ModelsOf(credential, provider))
                {
                    foreach (var id in credential.Prefix is null ? [clientId] : new[] { clientId, $"{credential.Prefix}/{clientId}" })
                    {
                        if (!routes.TryGetValue(id, out var list)) routes[id] = list = [];
                        list.Add(new ModelRoute(credential, upstream));
                        if (!listed.TryGetValue(id, out var entry))
                            listed[id] = entry = (ToListed(id, info, credential), new SortedSet<string>(StringComparer.Ordinal));
                        entry.Providers.Add(credential.Provider);
                    }
                }
            }
            var snapshot = new RegistrySnapshot(
                routes.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.Ordinal),
                [.. listed.Values.Select(e => e.Model with { Providers = [.. e.Providers] }).OrderBy(m => m.Id, StringComparer.Ordinal)]);
            Volatile.Write(ref _current, snapshot);
        }
    }

    private static IEnumerable<(string ClientId, string Upstream, ModelInfo? Info)> ModelsOf(CredentialRecord credential, IProviderPlugin provider)
    {
        var catalog = provider.Models;
        if (credential.Models.Count > 0)
        {
            foreach (var model in credential.Models)
                yield return (model.Alias, model.Name, catalog.FirstOrDefault(m => string.Equals(m.Id, model.Name, StringComparison.OrdinalIgnoreCase)));
            yield break;
        }
        foreach (var model in catalog) yield return (model.Id, model.Id, model);
    }

    // Copies plugin-provided data into host-owned objects: collections a plugin built (even a collection
    // expression) can be types from the plugin's assembly and would keep its context alive.
    private static ListedModel ToListed(string id, ModelInfo? info, CredentialRecord credential) => new(
        id,
        string.IsNullOrEmpty(info?.OwnedBy) ? credential.Provider : info.OwnedBy,
        info?.Created ?? 0,
        info?.DisplayName,
        info?.Description,
        info?.InputTokenLimit,
        info?.OutputTokenLimit,
        info?.Thinking is { } t ? t with { Levels = [.. t.Levels] } : null,
        []);
}
