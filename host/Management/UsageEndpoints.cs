using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Host.Management;

/// <summary>
/// CLIProxyAPI's usage endpoints, relative to the management group (which owns authentication):
/// <c>GET /usage</c> (<c>{"usage":{...},"failed_requests":n}</c> plus PluginProxy's <c>breakdown</c>),
/// <c>GET /usage/export</c> (<c>{"version":1,"exported_at":...,"usage":{...}}</c> with every stored request) and
/// <c>POST /usage/import</c> (merges an export; answers <c>{"added","skipped","total_requests","failed_requests"}</c>).
/// </summary>
internal static class UsageEndpoints
{
    public static RouteGroupBuilder MapUsage(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", (HttpContext http, UsageRecorder usage) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(usage.SnapshotJson(), "application/json");
        });

        api.MapGet("/usage/export", async (HttpContext http, UsageRecorder usage) =>
        {
            http.Response.ContentType = "application/json";
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"usage-export.json\"";
            await usage.WriteExportAsync(http.Response.Body, http.RequestAborted);
        });

        api.MapPost("/usage/import", async (HttpContext http, UsageRecorder usage, TimeProvider clock) =>
        {
            List<UsageRecord> records;
            try
            {
                var (bytes, tooLarge) = await Reply.ReadBytesAsync(http, 64 * 1024 * 1024);
                if (tooLarge is not null) return tooLarge;
                using var document = JsonDocument.Parse(bytes);
                records = UsageJson.ReadImport(document.RootElement, clock.GetUtcNow());
            }
            catch (JsonException)
            {
                return Error(400, "invalid json");
            }
            catch (FormatException e)
            {
                return Error(400, e.Message);
            }
            int added, skipped;
            try
            {
                (added, skipped) = await usage.ImportAsync(records, http.RequestAborted);
            }
            catch (IOException e)
            {
                return Error(503, e.Message);
            }
            var totals = usage.Totals();
            return Json(200, new JsonObject
            {
                ["added"] = added,
                ["skipped"] = skipped,
                ["total_requests"] = totals.Requests,
                ["failed_requests"] = totals.Failures,
            });
        });
        return api;
    }

    private static IResult Error(int status, string message) => Json(status, new JsonObject { ["error"] = message });

    private static IResult Json(int status, JsonObject body) => Results.Text(body.ToJsonString(), "application/json", statusCode: status);
}
