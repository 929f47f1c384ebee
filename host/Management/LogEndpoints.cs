using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Host.Config;
using PluginProxy.Host.Logging;

namespace PluginProxy.Host.Management;

/// <summary>
/// The server log when <c>logging-to-file</c> is on (<c>logs/main*.log</c> next to config.yaml): <c>GET /logs</c> with
/// CLIProxyAPI's <c>after</c> (Unix seconds) and <c>limit</c>, <c>DELETE /logs</c>. The log is already redacted when
/// written. PluginProxy keeps no per-request error logs, so <c>/request-error-logs</c> lists none.
/// </summary>
internal static partial class LogEndpoints
{
    public static RouteGroupBuilder MapLogs(this RouteGroupBuilder api)
    {
        api.MapGet("/logs", async (HttpContext http, ConfigStore config) =>
        {
            if (!config.Config.LoggingToFile) return Reply.BadRequest("logging to file is disabled");
            long after = 0;
            var afterText = http.Request.Query["after"].ToString();
            if (afterText.Length > 0 && !long.TryParse(afterText, NumberStyles.Integer, CultureInfo.InvariantCulture, out after))
                return Reply.BadRequest("invalid after: expected Unix seconds");
            int? limit = null;
            var limitText = http.Request.Query["limit"].ToString();
            if (limitText.Length > 0)
            {
                if (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) || l <= 0) return Reply.BadRequest("invalid limit: expected a positive integer");
                limit = l;
            }
            var lines = new List<string>();
            var scanned = 0;
            long latest = 0;
            var keep = false;
            foreach (var file in Files(config.Current))
            {
                foreach (var line in await ReadSharedAsync(file, http.RequestAborted))
                {
                    scanned++;
                    if (Stamp(line) is { } stamp)
                    {
                        latest = Math.Max(latest, stamp);
                        keep = stamp > after;
                    }
                    // A line without a timestamp (an exception's stack) follows the line it belongs to.
                    if (keep) lines.Add(line);
                }
            }
            if (limit is { } n && lines.Count > n) lines = lines[^n..];
            return Reply.Json(new JsonObject
            {
                ["lines"] = new JsonArray([.. lines.Select(l => JsonValue.Create(l))]),
                ["line-count"] = scanned,
                ["latest-timestamp"] = latest,
            });
        });
        api.MapDelete("/logs", (ConfigStore config) =>
        {
            var removed = 0;
            var files = Files(config.Current);
            for (var i = 0; i < files.Count; i++)
            {
                try
                {
                    if (i == files.Count - 1)
                    {
                        // The file being written: emptied, not deleted, so the writer keeps going.
                        using var stream = new FileStream(files[i], FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                        stream.SetLength(0);
                    }
                    else
                    {
                        File.Delete(files[i]);
                        removed++;
                    }
                }
                catch (IOException)
                {
                }
            }
            return Reply.Json(new JsonObject { ["success"] = true, ["message"] = "Logs cleared successfully", ["removed"] = removed });
        });
        api.MapGet("/request-error-logs", () => Reply.Json(new JsonObject { ["files"] = new JsonArray() }));
        return api;
    }

    // Oldest first; the rolling sink names files main<date>[_NNN].log.
    private static List<string> Files(LoadedConfig config)
    {
        var dir = LogSetup.LogDirectory(config);
        if (!Directory.Exists(dir)) return [];
        return [.. Directory.EnumerateFiles(dir, "main*.log").OrderBy(File.GetLastWriteTimeUtc).ThenBy(f => f, StringComparer.Ordinal)];
    }

    private static async Task<string[]> ReadSharedAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var text = await reader.ReadToEndAsync(cancellationToken);
            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static long? Stamp(string line)
    {
        var match = Timestamp().Match(line);
        if (!match.Success) return null;
        return DateTime.TryParseExact(match.Groups[1].Value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at)
            ? new DateTimeOffset(at).ToUnixTimeSeconds()
            : null;
    }

    [GeneratedRegex(@"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\]")]
    private static partial Regex Timestamp();
}
