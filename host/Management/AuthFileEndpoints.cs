using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;

namespace PluginProxy.Host.Management;

/// <summary>
/// Credential files in auth-dir (CLIProxyAPI's <c>/auth-files</c>): the list with each credential's state, upload,
/// download, delete, enable/disable, and the models a credential serves. Writes go through the credential store
/// (atomic, 0600) and are live at once.
/// </summary>
internal static class AuthFileEndpoints
{
    private const int MaxFileBytes = 1024 * 1024;

    public static RouteGroupBuilder MapAuthFiles(this RouteGroupBuilder api)
    {
        api.MapGet("/auth-files", (CredentialStore credentials, CredentialView view) =>
        {
            var cooldowns = view.Cooldowns();
            var sessions = view.Affinity().PerCredential;
            var files = credentials.Current.All
                .Where(r => r.Source == CredentialSource.File)
                .Select(r => view.Entry(r, cooldowns[r.Id], sessions.GetValueOrDefault(r.Id)))
                .OrderBy(e => (string?)e["name"], StringComparer.OrdinalIgnoreCase).ThenBy(e => (string?)e["id"], StringComparer.Ordinal);
            return Reply.Json(new JsonObject { ["files"] = new JsonArray([.. files]) });
        });

        api.MapGet("/auth-files/models", (HttpContext http, CredentialStore credentials, ModelRegistry registry) =>
        {
            var name = http.Request.Query["name"].ToString();
            if (name.Length == 0) return Reply.BadRequest("missing name");
            var ids = Matching(credentials, name).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            if (ids.Count == 0) return Reply.NotFound("auth file not found");
            var snapshot = registry.Current;
            var models = snapshot.Models
                .Where(m => snapshot.Routes.TryGetValue(m.Id, out var routes) && routes.Any(r => ids.Contains(r.Credential.Id)))
                .Select(m => (JsonNode)new JsonObject { ["id"] = m.Id, ["display_name"] = m.DisplayName, ["owned_by"] = m.OwnedBy });
            return Reply.Json(new JsonObject { ["models"] = new JsonArray([.. models]) });
        });

        api.MapGet("/auth-files/download", async (HttpContext http, CredentialStore credentials) =>
        {
            if (FileName(http.Request.Query["name"].ToString()) is not { } name) return (IResult)Reply.BadRequest("invalid name: expected a plain *.json file name");
            var path = Path.Combine(credentials.AuthDir, name);
            if (!File.Exists(path)) return Reply.NotFound("auth file not found");
            var bytes = await File.ReadAllBytesAsync(path, http.RequestAborted);
            return Results.File(bytes, "application/json", name);
        });

        api.MapPost("/auth-files", async (HttpContext http, CredentialStore credentials) =>
        {
            string? name;
            byte[] bytes;
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                if (form.Files["file"] is not { } file) return Reply.BadRequest("missing file field");
                if (file.Length > MaxFileBytes) return Reply.Error(413, "file too large (over 1 MiB)");
                name = FileName(file.FileName);
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, http.RequestAborted);
                bytes = buffer.ToArray();
            }
            else
            {
                name = FileName(http.Request.Query["name"].ToString());
                var (raw, tooLarge) = await Reply.ReadBytesAsync(http, MaxFileBytes);
                if (tooLarge is not null) return tooLarge;
                bytes = raw!;
            }
            if (name is null) return Reply.BadRequest("invalid name: expected a plain *.json file name");
            JsonObject content;
            try
            {
                content = JsonNode.Parse(bytes) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException)
            {
                return Reply.BadRequest("invalid auth file: not a JSON object");
            }
            if (AuthFileParser.Parse(Path.Combine(credentials.AuthDir, name), credentials.AuthDir, bytes) is null)
                return Reply.BadRequest("invalid auth file: missing \"type\"");
            await credentials.WriteAsync(name, content, http.RequestAborted);
            return Reply.Ok();
        });

        api.MapDelete("/auth-files", async (HttpContext http, CredentialStore credentials) =>
        {
            var all = http.Request.Query["all"].ToString();
            if (all is "true" or "1" or "*")
            {
                var deleted = 0;
                foreach (var file in Directory.EnumerateFiles(credentials.AuthDir, "*.json").Select(Path.GetFileName).OfType<string>().ToList())
                    if (!file.StartsWith('.') && await credentials.DeleteAsync(file, http.RequestAborted)) deleted++;
                return Reply.Json(new JsonObject { ["status"] = "ok", ["deleted"] = deleted });
            }
            var raw = http.Request.Query["name"].ToString();
            if (raw.Length == 0) return Reply.BadRequest("missing name");
            if (FileName(raw) is not { } name) return Reply.BadRequest("invalid name: expected a plain *.json file name");
            return await credentials.DeleteAsync(name, http.RequestAborted) ? Reply.Ok() : Reply.NotFound("auth file not found");
        });

        api.MapPatch("/auth-files/status", async (HttpContext http, CredentialStore credentials) =>
        {
            var (body, error) = await Reply.ReadBodyAsync(http);
            if (error is not null) return error;
            if (body is not JsonObject patch || KeyBlockEndpoints.String(patch, "name") is not { Length: > 0 } name
                || patch["disabled"]?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                return Reply.BadRequest("invalid body: expected {\"name\": \"...\", \"disabled\": true|false}");
            var disabled = patch["disabled"]!.GetValue<bool>();
            // Several records can share one file (a multi-project Gemini login); the flag is the file's.
            var record = Matching(credentials, name).FirstOrDefault(r => r.Source == CredentialSource.File);
            if (record is null) return Reply.NotFound("auth file not found");
            await credentials.UpdateAsync(record, json => json["disabled"] = disabled, http.RequestAborted);
            return Reply.Json(new JsonObject { ["status"] = "ok", ["disabled"] = disabled });
        });
        return api;
    }

    /// <summary>The records an id or a file name stands for.</summary>
    internal static IEnumerable<CredentialRecord> Matching(CredentialStore credentials, string name) =>
        credentials.Current.All.Where(r => r.Id == name || (r.FilePath is { } path && Path.GetFileName(path) == name));

    private static string? FileName(string? raw)
    {
        var name = raw?.Trim();
        if (string.IsNullOrEmpty(name) || name.Any(char.IsControl) || name != Path.GetFileName(name) || name.Contains('\\') || name.StartsWith('.')
            || !name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return null;
        return name;
    }
}
