using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Management;

/// <summary>
/// The lists in config.yaml, with CLIProxyAPI's verbs: client <c>api-keys</c>, the provider key blocks
/// (<c>gemini-api-key</c>, <c>claude-api-key</c>, <c>codex-api-key</c>, <c>vertex-api-key</c>), <c>openai-compatibility</c>,
/// <c>oauth-excluded-models</c> and <c>oauth-model-alias</c>. <c>PUT</c> replaces the list (a bare JSON array or
/// <c>{"items": [...]}</c>), <c>PATCH</c> changes one entry, <c>DELETE</c> removes by query. Entries are edited from the
/// file's own text, so fields PluginProxy does not model survive.
/// </summary>
internal static class KeyBlockEndpoints
{
    public static RouteGroupBuilder MapKeyBlocks(this RouteGroupBuilder api)
    {
        MapApiKeys(api);
        MapProviderBlock(api, "gemini-api-key", c => c.GeminiApiKey, required: "api-key");
        MapProviderBlock(api, "claude-api-key", c => c.ClaudeApiKey, required: "api-key");
        MapProviderBlock(api, "codex-api-key", c => c.CodexApiKey, required: "base-url");
        MapProviderBlock(api, "vertex-api-key", c => c.VertexApiKey, required: "base-url");
        MapOpenAICompatibility(api);
        MapProviderMap(api, "oauth-excluded-models", "models", ["provider"], c => c.OauthExcludedModels);
        MapProviderMap(api, "oauth-model-alias", "aliases", ["channel", "provider"], c => c.OauthModelAlias);
        return api;
    }

    // ---- api-keys ------------------------------------------------------------------------------------------

    private static void MapApiKeys(RouteGroupBuilder api)
    {
        const string key = "api-keys";
        api.MapGet("/api-keys", (ConfigStore config) => Reply.Json(new JsonObject { [key] = new JsonArray([.. config.Config.ApiKeys.Select(k => JsonValue.Create(k))]) }));
        api.MapPut("/api-keys", async (HttpContext http, ConfigWriter writer) =>
        {
            var (items, error) = await ReadListAsync(http);
            if (error is not null) return error;
            if (items!.Any(i => i?.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(i.GetValue<string>())))
                return Reply.BadRequest("invalid body: api-keys must be non-empty strings");
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, [key], items), key, http.RequestAborted);
        });
        api.MapPatch("/api-keys", async (HttpContext http, ConfigWriter writer) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject patch) return Reply.BadRequest("invalid body");
            var replacement = String(patch, "new") ?? String(patch, "value");
            if (string.IsNullOrWhiteSpace(replacement)) return Reply.BadRequest("invalid body: missing new value");
            var index = Int(patch, "index");
            var old = String(patch, "old");
            if (index is null && old is null) return Reply.BadRequest("invalid body: give old and new, or index and value");
            return await writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                if (index is { } i)
                {
                    if (i < 0 || i >= list.Count) return Reply.NotFound("item not found");
                    list[i] = replacement;
                }
                else if (list.FirstOrDefault(k => k?.GetValueKind() == JsonValueKind.String && k.GetValue<string>() == old) is { } found)
                {
                    list[list.IndexOf(found)] = replacement;
                }
                else
                {
                    list.Add(replacement);
                }
                return ConfigEndpoints.Set(e, [key], list);
            }, key, http.RequestAborted);
        });
        api.MapDelete("/api-keys", (HttpContext http, ConfigWriter writer) =>
        {
            var index = QueryInt(http, "index");
            var value = http.Request.Query["value"].ToString();
            if (index is null && value.Length == 0) return Task.FromResult(Reply.BadRequest("missing index or value"));
            return writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                var removed = index is { } i
                    ? i >= 0 && i < list.Count && Remove(list, i)
                    : RemoveWhere(list, k => k?.GetValueKind() == JsonValueKind.String && k.GetValue<string>() == value) > 0;
                return removed ? ConfigEndpoints.Set(e, [key], list) : Reply.NotFound("item not found");
            }, key, http.RequestAborted);
        });
    }

    // ---- provider key blocks -----------------------------------------------------------------------------

    private static void MapProviderBlock(RouteGroupBuilder api, string key, Func<ProxyConfig, List<ApiKeyEntry>> get, string required)
    {
        var route = "/" + key;
        api.MapGet(route, (ConfigStore config) => Reply.Json(new JsonObject { [key] = JsonSerializer.SerializeToNode(get(config.Config), ConfigEndpoints.Json) }));
        api.MapPut(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (items, error) = await ReadListAsync(http);
            if (error is not null) return error;
            if (items!.Any(i => i is not JsonObject)) return Reply.BadRequest($"invalid body: {key} entries must be objects");
            // As CLIProxyAPI: entries without their essential field are dropped.
            RemoveWhere(items!, i => string.IsNullOrWhiteSpace(String((JsonObject)i!, required)));
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, [key], items), key, http.RequestAborted);
        });
        api.MapPatch(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject patch || patch["value"] is not JsonObject value) return Reply.BadRequest("invalid body: expected {\"index\"|\"match\", \"value\": {...}}");
            var index = Int(patch, "index");
            var match = String(patch, "match");
            if (index is null && match is null) return Reply.BadRequest("invalid body: missing index or match");
            return await writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                var at = index ?? list.ToList().FindIndex(i => i is JsonObject o && String(o, "api-key") == match);
                if (at < 0 || at >= list.Count || list[at] is not JsonObject entry) return Reply.NotFound("item not found");
                Merge(entry, value, keep: "priority"); // priority is only changed by PUT (as CLIProxyAPI)
                if (string.IsNullOrWhiteSpace(String(entry, "api-key")) || string.IsNullOrWhiteSpace(String(entry, required))) list.RemoveAt(at);
                return ConfigEndpoints.Set(e, [key], list);
            }, key, http.RequestAborted);
        });
        api.MapDelete(route, (HttpContext http, ConfigWriter writer) =>
        {
            var index = QueryInt(http, "index");
            var apiKey = http.Request.Query["api-key"].ToString();
            if (index is null && apiKey.Length == 0) return Task.FromResult(Reply.BadRequest("missing api-key or index"));
            return writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                var removed = index is { } i
                    ? i >= 0 && i < list.Count && Remove(list, i)
                    : RemoveWhere(list, item => item is JsonObject o && String(o, "api-key") == apiKey) > 0;
                return removed ? ConfigEndpoints.Set(e, [key], list) : Reply.NotFound("item not found");
            }, key, http.RequestAborted);
        });
    }

    private static void MapOpenAICompatibility(RouteGroupBuilder api)
    {
        const string key = "openai-compatibility";
        api.MapGet("/openai-compatibility", (ConfigStore config) =>
            Reply.Json(new JsonObject { [key] = JsonSerializer.SerializeToNode(config.Config.OpenaiCompatibility, ConfigEndpoints.Json) }));
        api.MapPut("/openai-compatibility", async (HttpContext http, ConfigWriter writer) =>
        {
            var (items, error) = await ReadListAsync(http);
            if (error is not null) return error;
            if (items!.Any(i => i is not JsonObject o || string.IsNullOrWhiteSpace(String(o, "name"))))
                return Reply.BadRequest("invalid body: openai-compatibility entries must be objects with a name");
            RemoveWhere(items!, i => string.IsNullOrWhiteSpace(String((JsonObject)i!, "base-url")));
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, [key], items), key, http.RequestAborted);
        });
        api.MapPatch("/openai-compatibility", async (HttpContext http, ConfigWriter writer) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject patch || patch["value"] is not JsonObject value) return Reply.BadRequest("invalid body: expected {\"name\"|\"index\", \"value\": {...}}");
            var index = Int(patch, "index");
            var name = String(patch, "name");
            if (index is null && name is null) return Reply.BadRequest("invalid body: missing name or index");
            return await writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                var at = index ?? list.ToList().FindIndex(i => i is JsonObject o && string.Equals(String(o, "name"), name, StringComparison.OrdinalIgnoreCase));
                if (at < 0 || at >= list.Count || list[at] is not JsonObject entry) return Reply.NotFound("item not found");
                Merge(entry, value, keep: "priority");
                if (string.IsNullOrWhiteSpace(String(entry, "base-url"))) list.RemoveAt(at);
                return ConfigEndpoints.Set(e, [key], list);
            }, key, http.RequestAborted);
        });
        api.MapDelete("/openai-compatibility", (HttpContext http, ConfigWriter writer) =>
        {
            var index = QueryInt(http, "index");
            var name = http.Request.Query["name"].ToString();
            if (index is null && name.Length == 0) return Task.FromResult(Reply.BadRequest("missing name or index"));
            return writer.EditAsync(e =>
            {
                var list = ListOf(e, key);
                var removed = index is { } i
                    ? i >= 0 && i < list.Count && Remove(list, i)
                    : RemoveWhere(list, item => item is JsonObject o && string.Equals(String(o, "name"), name, StringComparison.OrdinalIgnoreCase)) > 0;
                return removed ? ConfigEndpoints.Set(e, [key], list) : Reply.NotFound("item not found");
            }, key, http.RequestAborted);
        });
    }

    // ---- provider -> list maps ----------------------------------------------------------------------------

    private static void MapProviderMap<T>(RouteGroupBuilder api, string key, string listField, string[] selectors, Func<ProxyConfig, Dictionary<string, List<T>>> get)
    {
        var route = "/" + key;
        api.MapGet(route, (ConfigStore config) => Reply.Json(new JsonObject { [key] = JsonSerializer.SerializeToNode(get(config.Config), ConfigEndpoints.Json) }));
        api.MapPut(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            var map = body is JsonObject o && o.Count == 1 && o["items"] is JsonObject items ? items : body as JsonObject;
            if (map is null || map.Any(p => p.Value is not JsonArray)) return Reply.BadRequest($"invalid body: {key} must map each provider to a list");
            if (map.GroupBy(p => p.Key.Trim().ToLowerInvariant()).FirstOrDefault(g => g.Count() > 1) is { } twice)
                return Reply.BadRequest($"invalid body: provider '{twice.Key}' is given more than once");
            var normalized = new JsonObject(map.Where(p => ((JsonArray)p.Value!).Count > 0)
                .Select(p => KeyValuePair.Create(p.Key.Trim().ToLowerInvariant(), (JsonNode?)p.Value!.DeepClone())));
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, [key], normalized), key, http.RequestAborted);
        });
        api.MapPatch(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject patch) return Reply.BadRequest("invalid body");
            var provider = selectors.Select(s => String(patch, s)).FirstOrDefault(s => !string.IsNullOrWhiteSpace(s))?.Trim().ToLowerInvariant();
            if (provider is null) return Reply.BadRequest($"invalid body: missing {string.Join(" or ", selectors)}");
            if (patch[listField] is not JsonArray list) return Reply.BadRequest($"invalid body: {listField} must be a list");
            return await writer.EditAsync(e =>
            {
                var current = e.Get(key) as JsonObject ?? new JsonObject();
                if (list.Count == 0)
                {
                    if (!current.ContainsKey(provider)) return Reply.NotFound($"{provider} not found");
                    current.Remove(provider);
                }
                else
                {
                    current[provider] = list.DeepClone();
                }
                return ConfigEndpoints.Set(e, [key], current);
            }, key, http.RequestAborted);
        });
        api.MapDelete(route, (HttpContext http, ConfigWriter writer) =>
        {
            var provider = selectors.Select(s => http.Request.Query[s].ToString()).FirstOrDefault(s => s.Length > 0)?.Trim().ToLowerInvariant();
            if (provider is null) return Task.FromResult(Reply.BadRequest($"missing {string.Join(" or ", selectors)}"));
            return writer.EditAsync(e =>
            {
                var current = e.Get(key) as JsonObject ?? new JsonObject();
                if (!current.Remove(provider)) return Reply.NotFound($"{provider} not found");
                return ConfigEndpoints.Set(e, [key], current);
            }, key, http.RequestAborted);
        });
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>A PUT list body: a bare array, or <c>{"items": [...]}</c> (which must not be empty).</summary>
    internal static async Task<(JsonArray? Items, Reply? Error)> ReadListAsync(HttpContext http)
    {
        var (body, error) = await Reply.ReadBodyAsync(http);
        if (error is not null) return (null, error);
        switch (body)
        {
            case JsonArray array:
                return (array, null);
            case JsonObject o when o["items"] is JsonArray items:
                return items.Count == 0 ? (null, Reply.BadRequest("invalid body: items must not be empty")) : ((JsonArray)items.DeepClone(), null);
            default:
                return (null, Reply.BadRequest("invalid body: expected a JSON array or {\"items\": [...]}"));
        }
    }

    internal static JsonArray ListOf(YamlEditor editor, params string[] path) => editor.Get(path) as JsonArray ?? [];

    private static void Merge(JsonObject target, JsonObject patch, string keep)
    {
        foreach (var (name, value) in patch)
        {
            if (name == keep) continue;
            if (value is null) target.Remove(name);
            else target[name] = value.DeepClone();
        }
    }

    private static bool Remove(JsonArray list, int index)
    {
        list.RemoveAt(index);
        return true;
    }

    internal static int RemoveWhere(JsonArray list, Func<JsonNode?, bool> predicate)
    {
        var removed = 0;
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (!predicate(list[i])) continue;
            list.RemoveAt(i);
            removed++;
        }
        return removed;
    }

    internal static string? String(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    internal static int? Int(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) ? i : null;

    internal static int? QueryInt(HttpContext http, string name) =>
        int.TryParse(http.Request.Query[name].ToString(), out var i) ? i : null;
}
