using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Management;

/// <summary>
/// The <c>ampcode</c> block (read by the Amp routing plugin), with CLIProxyAPI's routes. Values come from the file,
/// since the block belongs to the plugin rather than to the host's config model.
/// </summary>
internal static class AmpEndpoints
{
    private const string Block = "ampcode";

    public static RouteGroupBuilder MapAmp(this RouteGroupBuilder api)
    {
        api.MapGet("/ampcode", (ConfigWriter writer) => Reply.Json(new JsonObject { [Block] = Read(writer, Block) ?? new JsonObject() }));
        MapScalar(api, "upstream-url", JsonValueKind.String, deletable: true);
        MapScalar(api, "upstream-api-key", JsonValueKind.String, deletable: true);
        MapScalar(api, "restrict-management-to-localhost", JsonValueKind.True, deletable: false);
        MapScalar(api, "force-model-mappings", JsonValueKind.True, deletable: false);
        MapUpsertList(api, "model-mappings", "from");
        MapUpsertList(api, "upstream-api-keys", "upstream-api-key");
        return api;
    }

    private static JsonNode? Read(ConfigWriter writer, params string[] path) =>
        writer.Path is { } file && File.Exists(file) ? new YamlEditor(File.ReadAllText(file)).Get(path)?.DeepClone() : null;

    private static void MapScalar(RouteGroupBuilder api, string name, JsonValueKind kind, bool deletable)
    {
        var route = $"/{Block}/{name}";
        string[] path = [Block, name];
        api.MapGet(route, (ConfigWriter writer) => Reply.Json(new JsonObject
        {
            [name] = Read(writer, path) ?? (kind == JsonValueKind.True ? JsonValue.Create(false) : JsonValue.Create("")),
        }));
        api.MapMethods(route, ["PUT", "PATCH"], async (HttpContext http, ConfigWriter writer) =>
        {
            var (value, error) = await Reply.ReadValueAsync(http);
            if (error is not null) return error;
            var actual = value?.GetValueKind();
            var ok = kind == JsonValueKind.True ? actual is JsonValueKind.True or JsonValueKind.False : actual == JsonValueKind.String;
            if (!ok) return Reply.BadRequest($"invalid body: {name} must be {(kind == JsonValueKind.True ? "true or false" : "a string")}");
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, path, value!.DeepClone()), $"{Block}.{name}", http.RequestAborted);
        });
        if (deletable)
            api.MapDelete(route, (HttpContext http, ConfigWriter writer) => writer.EditAsync(e =>
            {
                e.Remove(path);
                return null;
            }, $"{Block}.{name}", http.RequestAborted));
    }

    // A list of objects keyed by one field: PUT replaces, PATCH upserts by the key, DELETE removes the keys listed.
    private static void MapUpsertList(RouteGroupBuilder api, string name, string keyField)
    {
        var route = $"/{Block}/{name}";
        string[] path = [Block, name];
        api.MapGet(route, (ConfigWriter writer) => Reply.Json(new JsonObject { [name] = Read(writer, path) ?? new JsonArray() }));
        api.MapPut(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (value, error) = await ReadEntriesAsync(http, keyField);
            if (error is not null) return error;
            return await writer.EditAsync(e => ConfigEndpoints.Set(e, path, value), $"{Block}.{name}", http.RequestAborted);
        });
        api.MapPatch(route, async (HttpContext http, ConfigWriter writer) =>
        {
            var (value, error) = await ReadEntriesAsync(http, keyField);
            if (error is not null) return error;
            return await writer.EditAsync(e =>
            {
                var list = KeyBlockEndpoints.ListOf(e, path);
                foreach (var entry in value!.OfType<JsonObject>())
                {
                    var key = KeyBlockEndpoints.String(entry, keyField);
                    var at = list.ToList().FindIndex(i => i is JsonObject o && KeyBlockEndpoints.String(o, keyField) == key);
                    if (at >= 0) list[at] = entry.DeepClone();
                    else list.Add(entry.DeepClone());
                }
                return ConfigEndpoints.Set(e, path, list);
            }, $"{Block}.{name}", http.RequestAborted);
        });
        api.MapDelete(route, async (HttpContext http, ConfigWriter writer) =>
        {
            // CLIProxyAPI: {"value": [keys]} removes those; an empty list (or for model-mappings, no usable body) clears all.
            JsonArray? keys = null;
            if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
            {
                var (body, _) = await Reply.ReadBodyAsync(http);
                keys = (body as JsonObject)?["value"] as JsonArray;
            }
            if (keys is null && keyField != "from") return Reply.BadRequest("invalid body: expected {\"value\": [...]}");
            return await writer.EditAsync(e =>
            {
                if (keys is null || keys.Count == 0) return ConfigEndpoints.Set(e, path, new JsonArray());
                var list = KeyBlockEndpoints.ListOf(e, path);
                var wanted = keys.Select(k => k?.GetValueKind() == JsonValueKind.String ? k.GetValue<string>() : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
                KeyBlockEndpoints.RemoveWhere(list, i => i is JsonObject o && KeyBlockEndpoints.String(o, keyField) is { } k && wanted.Contains(k));
                return ConfigEndpoints.Set(e, path, list);
            }, $"{Block}.{name}", http.RequestAborted);
        });
    }

    private static async Task<(JsonArray? Entries, Reply? Error)> ReadEntriesAsync(HttpContext http, string keyField)
    {
        var (value, error) = await Reply.ReadValueAsync(http);
        if (error is not null) return (null, error);
        if (value is not JsonArray list || list.Any(i => i is not JsonObject o || string.IsNullOrWhiteSpace(KeyBlockEndpoints.String(o, keyField))))
            return (null, Reply.BadRequest($"invalid body: value must be a list of objects with \"{keyField}\""));
        return ((JsonArray)list.DeepClone(), null);
    }
}
