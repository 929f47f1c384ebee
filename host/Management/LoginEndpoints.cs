using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PluginProxy.Host.Management;

/// <summary>
/// Provider login from the web, as CLIProxyAPI: <c>GET /&lt;provider&gt;-auth-url</c> starts one and answers the URL to
/// open and its state; <c>GET /get-auth-status?state=</c> polls; <c>POST /oauth-callback</c> delivers the redirect when
/// the browser cannot reach this machine's callback port. Any plugin with an authenticator can be logged in this way
/// (<c>anthropic-auth-url</c>, <c>codex-auth-url</c>, <c>gemini-cli-auth-url?project_id=</c>, <c>qwen-auth-url</c>, ...).
/// </summary>
internal static class LoginEndpoints
{
    public static RouteGroupBuilder MapLogin(this RouteGroupBuilder api)
    {
        api.MapGet("/{provider}-auth-url", (HttpContext http, string provider, LoginSessions sessions) =>
        {
            // Query parameters become the plugin's login options (project_id -> project-id), as on the command line.
            var given = http.Request.Query.Where(q => q.Key != "is_webui").Select(q => (Name: q.Key.Replace('_', '-'), Value: q.Value.ToString())).ToList();
            if (given.GroupBy(q => q.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
                return Task.FromResult(Reply.BadRequest($"option '{twice.Key}' is given more than once"));
            var options = given.ToDictionary(q => q.Name, q => q.Value, StringComparer.OrdinalIgnoreCase);
            return sessions.StartAsync(provider, options, http.RequestAborted);
        });
        api.MapGet("/get-auth-status", (HttpContext http, LoginSessions sessions) =>
        {
            var state = http.Request.Query["state"].ToString();
            return state.Length == 0 ? Reply.BadRequest("missing state") : sessions.Status(state);
        });
        api.MapPost("/oauth-callback", async (HttpContext http, LoginSessions sessions) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject o) return Reply.BadRequest("invalid body");
            return sessions.Callback(KeyBlockEndpoints.String(o, "redirect_url"), KeyBlockEndpoints.String(o, "code"),
                KeyBlockEndpoints.String(o, "state"), KeyBlockEndpoints.String(o, "error"));
        });
        return api;
    }
}
