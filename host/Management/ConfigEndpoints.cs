using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Config;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Host.Management;

/// <summary>
/// The whole config (<c>GET /config</c> as flat JSON, <c>GET/PUT /config.yaml</c>) and CLIProxyAPI's scalar settings:
/// <c>GET</c> answers <c>{"&lt;key&gt;": value}</c>, <c>PUT</c>/<c>PATCH</c> take <c>{"value": v}</c> and answer
/// <c>{"status":"ok"}</c> once config.yaml is rewritten (comments kept) and the change is live.
/// </summary>
internal static class ConfigEndpoints
{
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    // Not part of GET /config (CLIProxyAPI leaves them out too): the bind, the credential folder, the management secret.
    private static readonly string[] Hidden = ["host", "port", "auth-dir", "remote-management"];

    public static RouteGroupBuilder MapConfig(this RouteGroupBuilder api)
    {
        api.MapGet("/config", (ConfigStore config) => Reply.Json(Flat(config.Current)));
        api.MapGet("/config.yaml", async (HttpContext http, ConfigWriter writer) =>
        {
            if (writer.Path is not { } path || !File.Exists(path))
                return (IResult)Reply.Json(new JsonObject { ["error"] = "not_found", ["message"] = "config file not found" }, 404);
            return Results.Text(await File.ReadAllTextAsync(path, http.RequestAborted), "application/yaml; charset=utf-8", Encoding.UTF8);
        });
        api.MapPut("/config.yaml", async (HttpContext http, ConfigWriter writer) =>
        {
            var (bytes, tooLarge) = await Reply.ReadBytesAsync(http, MaxConfigBytes);
            if (tooLarge is not null) return tooLarge;
            var yaml = Encoding.UTF8.GetString(bytes!);
            if (string.IsNullOrWhiteSpace(yaml)) return Reply.Json(new JsonObject { ["error"] = "invalid_yaml", ["message"] = "empty body" }, 400);
            return await writer.ReplaceAsync(yaml, http.RequestAborted) ?? Reply.Json(new JsonObject { ["ok"] = true, ["changed"] = new JsonArray("config") });
        });

        api.MapBool("/debug", ["debug"], c => c.Debug);
        api.MapBool("/logging-to-file", ["logging-to-file"], c => c.LoggingToFile);
        api.MapBool("/usage-statistics-enabled", ["usage-statistics-enabled"], c => c.UsageStatisticsEnabled);
        api.MapBool("/ws-auth", ["ws-auth"], c => c.WsAuth);
        api.MapBool("/force-model-prefix", ["force-model-prefix"], c => c.ForceModelPrefix);
        api.MapBool("/disable-cooling", ["disable-cooling"], c => c.DisableCooling);
        api.MapBool("/quota-exceeded/switch-project", ["quota-exceeded", "switch-project"], c => c.QuotaExceeded.SwitchProject);
        api.MapBool("/quota-exceeded/switch-preview-model", ["quota-exceeded", "switch-preview-model"], c => c.QuotaExceeded.SwitchPreviewModel);
        api.MapInt("/request-retry", ["request-retry"], c => c.RequestRetry);
        api.MapInt("/max-retry-interval", ["max-retry-interval"], c => c.MaxRetryInterval);
        api.MapString("/proxy-url", ["proxy-url"], c => c.ProxyUrl, deletable: true);

        api.MapGet("/routing/strategy", (ConfigStore config) =>
            Reply.Json(new JsonObject { ["strategy"] = Scheduler.StrategyOf(config.Config) == RoutingStrategy.FillFirst ? "fill-first" : "round-robin" }));
        api.MapMethods("/routing/strategy", ["PUT", "PATCH"], async (HttpContext http, ConfigWriter writer) =>
        {
            var (value, error) = await Reply.ReadValueAsync(http);
            if (error is not null) return error;
            if (value?.GetValueKind() != JsonValueKind.String) return Reply.BadRequest("invalid strategy");
            var strategy = value.GetValue<string>().Trim().ToLowerInvariant() switch
            {
                "" or "round-robin" or "roundrobin" or "rr" => "round-robin",
                "fill-first" or "fillfirst" or "ff" => "fill-first",
                _ => null,
            };
            if (strategy is null) return Reply.BadRequest("invalid strategy");
            return await writer.EditAsync(e => Set(e, ["routing", "strategy"], strategy), "routing.strategy", http.RequestAborted);
        });
        return api;
    }

    /// <summary>The snapshot as JSON with YAML key names, plus the blocks plugins own (<c>ampcode</c>, <c>providers</c>, <c>payload</c>).</summary>
    internal static JsonObject Flat(LoadedConfig loaded)
    {
        var json = JsonSerializer.SerializeToNode(loaded.Config, Json)!.AsObject();
        foreach (var key in Hidden) json.Remove(key);
        if (json["timeouts"] is JsonObject timeouts)
        {
            timeouts.Remove("first-byte");
            timeouts.Remove("stream-idle");
        }
        if (loaded.Path is { } path && File.Exists(path))
        {
            var file = new YamlEditor(File.ReadAllText(path)).GetAll();
            foreach (var key in new[] { "ampcode", "providers", "payload" })
                if (file[key] is { } block) json[key] = block.DeepClone();
        }
        return json;
    }

    internal static Reply? Set(YamlEditor editor, string[] path, JsonNode? value)
    {
        editor.Set(path, value);
        return null;
    }

    internal static void MapBool(this RouteGroupBuilder api, string route, string[] path, Func<ProxyConfig, bool> get) =>
        api.MapScalar(route, path, c => JsonValue.Create(get(c)), JsonValueKind.True, deletable: false);

    internal static void MapInt(this RouteGroupBuilder api, string route, string[] path, Func<ProxyConfig, int> get) =>
        api.MapScalar(route, path, c => JsonValue.Create(get(c)), JsonValueKind.Number, deletable: false);

    internal static void MapString(this RouteGroupBuilder api, string route, string[] path, Func<ProxyConfig, string?> get, bool deletable) =>
        api.MapScalar(route, path, c => get(c) is { } s ? JsonValue.Create(s) : JsonValue.Create(""), JsonValueKind.String, deletable);

    /// <summary>GET/PUT/PATCH (and DELETE) of one scalar setting; <paramref name="get"/> reads it from the live snapshot.</summary>
    internal static void MapScalar(this RouteGroupBuilder api, string route, string[] path, Func<ProxyConfig, JsonNode?> get, JsonValueKind kind, bool deletable)
    {
        var name = path[^1];
        api.MapGet(route, (ConfigStore config) => Reply.Json(new JsonObject { [name] = get(config.Config) }));
        api.MapMethods(route, ["PUT", "PATCH"], async (HttpContext http, ConfigWriter writer) =>
        {
            var (value, error) = await Reply.ReadValueAsync(http);
            if (error is not null) return error;
            if (Check(value, kind) is { } problem) return Reply.BadRequest($"invalid body: {name} {problem}");
            return await writer.EditAsync(e => Set(e, path, value!.DeepClone()), string.Join('.', path), http.RequestAborted);
        });
        if (deletable)
            api.MapDelete(route, (HttpContext http, ConfigWriter writer) =>
                writer.EditAsync(e =>
                {
                    e.Remove(path);
                    return null;
                }, string.Join('.', path), http.RequestAborted));
    }

    private static string? Check(JsonNode? value, JsonValueKind kind)
    {
        var actual = value?.GetValueKind();
        return kind switch
        {
            JsonValueKind.True when actual is not (JsonValueKind.True or JsonValueKind.False) => "must be true or false",
            JsonValueKind.Number when actual != JsonValueKind.Number || !value!.AsValue().TryGetValue<int>(out _) => "must be an integer",
            JsonValueKind.Number when value!.GetValue<int>() < 0 => "must not be negative",
            JsonValueKind.String when actual != JsonValueKind.String => "must be a string",
            _ => null,
        };
    }
}
