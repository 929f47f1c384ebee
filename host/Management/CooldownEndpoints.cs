using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Host.Management;

/// <summary>
/// Cooldown control: <c>GET /cooldowns</c> lists every running cooldown (credential, model, reason, until when), and
/// <c>POST /reset-quota</c> (CLIProxyAPI's name) clears them for one credential, one model, both, or all; a cleared
/// credential serves the next request. <c>DELETE /cooldowns</c> does the same with query parameters.
/// <c>GET /session-affinity</c> shows the conversation bindings of <c>routing.session-affinity</c>.
/// </summary>
internal static class CooldownEndpoints
{
    public static RouteGroupBuilder MapCooldowns(this RouteGroupBuilder api)
    {
        api.MapGet("/cooldowns", (CredentialStore credentials, CredentialView view, Scheduler scheduler) =>
        {
            var byId = credentials.Current.ById;
            var list = scheduler.Book.Running(scheduler.Clock.GetUtcNow())
                .OrderBy(e => e.Cooldown.Until).ThenBy(e => e.Credential, StringComparer.Ordinal)
                .Select(e => (JsonNode)view.CooldownJson(e.Credential, e.Model, e.Cooldown, byId.TryGetValue(e.Credential, out var r) ? r.Label : null));
            return Reply.Json(new JsonObject { ["cooldowns"] = new JsonArray([.. list]) });
        });

        // Session affinity: how many conversations are bound, to which credential, and for how long unused.
        api.MapGet("/session-affinity", (CredentialStore credentials, CredentialView view) => Reply.Json(view.AffinityJson(credentials.Current.ById)));

        api.MapPost("/reset-quota", async (HttpContext http, CredentialStore credentials, Scheduler scheduler) =>
        {
            JsonObject body = [];
            if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
            {
                var (parsed, error) = await Reply.ReadBodyAsync(http);
                if (error is not null) return error;
                if (parsed is not JsonObject o) return Reply.BadRequest("invalid body: expected {\"auth_index\"?, \"model\"?}");
                body = o;
            }
            var credential = KeyBlockEndpoints.String(body, "auth_index") ?? KeyBlockEndpoints.String(body, "authIndex")
                ?? KeyBlockEndpoints.String(body, "AuthIndex") ?? KeyBlockEndpoints.String(body, "name");
            return Reset(credentials, scheduler, credential, KeyBlockEndpoints.String(body, "model"));
        });

        api.MapDelete("/cooldowns", (HttpContext http, CredentialStore credentials, Scheduler scheduler) =>
        {
            var credential = http.Request.Query["auth_index"].ToString() is { Length: > 0 } a ? a : http.Request.Query["name"].ToString();
            var model = http.Request.Query["model"].ToString();
            return Reset(credentials, scheduler, credential.Length > 0 ? credential : null, model.Length > 0 ? model : null);
        });
        return api;
    }

    private static Reply Reset(CredentialStore credentials, Scheduler scheduler, string? credential, string? model)
    {
        var cleared = 0;
        if (credential is null)
        {
            cleared = scheduler.Reset(null, model);
        }
        else
        {
            var ids = AuthFileEndpoints.Matching(credentials, credential).Select(r => r.Id).ToList();
            if (ids.Count == 0) return Reply.NotFound("auth not found");
            foreach (var id in ids) cleared += scheduler.Reset(id, model);
        }
        return Reply.Json(new JsonObject { ["status"] = "ok", ["auth_index"] = credential, ["model"] = model, ["cleared"] = cleared });
    }
}
