using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Endpoints;

/// <summary><c>GET /</c> and <c>GET /healthz</c>: no authentication, no secrets.</summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => ErrorWriter.WriteJsonAsync(http, 200, new JsonObject
        {
            ["message"] = "PluginProxy (CLIProxyAPI-compatible LLM API proxy)",
            ["endpoints"] = new JsonArray("POST /v1/chat/completions", "POST /v1/completions", "POST /v1/responses", "POST /v1/messages",
                "POST /v1beta/models/{model}:generateContent", "GET /v1/models", "GET /healthz"),
        }));
        app.MapMethods("/healthz", ["GET", "HEAD"], (HttpContext http, PluginRuntime plugins, CredentialStore credentials, ModelRegistry registry) =>
        {
            var set = plugins.Current;
            var loaded = new JsonArray();
            foreach (var plugin in set.Plugins)
            {
                loaded.Add(new JsonObject
                {
                    ["name"] = plugin.Name,
                    ["version"] = plugin.Version,
                    ["providers"] = new JsonArray([.. plugin.Providers.Select(p => JsonValue.Create(p.Id))]),
                    ["routers"] = new JsonArray([.. plugin.Routers.Select(r => JsonValue.Create(r.Id))]),
                });
            }
            return ErrorWriter.WriteJsonAsync(http, 200, new JsonObject
            {
                ["status"] = "ok",
                ["plugins"] = new JsonObject { ["revision"] = set.Revision, ["loaded"] = loaded },
                ["credentials"] = credentials.Current.All.Length,
                ["models"] = registry.Current.Models.Length,
            });
        });
    }
}
