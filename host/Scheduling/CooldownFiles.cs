using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Scheduling;

/// <summary>
/// <c>save-cooldown-status</c>: each credential's running cooldowns in a <c>.cds</c> file next to the credential files
/// (one per credential; its id and the cooldowns, never a secret), written atomically with mode 0600 whenever they
/// change, and read back at start, so a restart neither forgets a 429's reset time nor extends it: entries keep their
/// absolute end and those already past are dropped. The credential watcher only reads <c>*.json</c>, so these writes
/// reload nothing. Writes happen off the request path, one credential at a time, coalesced.
/// </summary>
internal sealed partial class CooldownFiles
{
    public const string Extension = ".cds";

    private readonly CooldownBook _book;
    private readonly string _dir;
    private readonly Func<bool> _enabled;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _dirty = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Task _flushing = Task.CompletedTask;
    private bool _running;

    public CooldownFiles(CooldownBook book, string dir, Func<bool> enabled, TimeProvider clock, ILogger logger)
    {
        _book = book;
        _dir = dir;
        _enabled = enabled;
        _clock = clock;
        _logger = logger;
        book.Changed += OnChanged;
    }

    /// <summary>Restores the saved cooldowns that have not ended yet; returns how many.</summary>
    public int Load()
    {
        if (!Directory.Exists(_dir)) return 0;
        var now = _clock.GetUtcNow();
        var restored = 0;
        foreach (var path in Directory.EnumerateFiles(_dir, "*" + Extension))
        {
            try
            {
                if (JsonNode.Parse(File.ReadAllBytes(path)) is not JsonObject file || (string?)file["credential"] is not { Length: > 0 } credential) continue;
                var live = 0;
                foreach (var entry in file["cooldowns"] as JsonArray ?? [])
                {
                    if (entry is not JsonObject e || (string?)e["model"] is not { } model || !DateTimeOffset.TryParse((string?)e["until"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var until))
                        continue;
                    if (until <= now) continue;
                    var kind = Enum.TryParse<FailureKind>((string?)e["kind"], out var k) ? k : FailureKind.Transient;
                    _book.Restore(credential, model, new Cooldown(until, kind, (int?)e["status"] ?? 0, (int?)e["level"] ?? 0));
                    live++;
                }
                restored += live;
                if (live == 0) File.Delete(path); // everything in it ended while the server was down
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or FormatException or InvalidOperationException)
            {
                LogUnreadable(path, e.Message);
            }
        }
        return restored;
    }

    /// <summary>Completes when every change so far is on disk (tests, shutdown).</summary>
    public Task WhenFlushedAsync()
    {
        lock (_gate) return _flushing;
    }

    /// <summary>The file for a credential id: its name made safe (a file credential's <c>.json</c> dropped), plus <c>.cds</c>.</summary>
    public static string FileName(string credentialId)
    {
        var name = credentialId.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? credentialId[..^5] : credentialId;
        name = Unsafe().Replace(name, "_").Trim('.', '_', '-');
        return (name.Length == 0 ? "credential" : name) + Extension;
    }

    private void OnChanged(string credential)
    {
        if (!_enabled()) return;
        _dirty[credential] = true;
        lock (_gate)
        {
            if (_running) return;
            _running = true;
            _flushing = Task.Run(FlushAsync);
        }
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            foreach (var credential in _dirty.Keys)
            {
                if (!_dirty.TryRemove(credential, out _)) continue;
                await WriteAsync(credential).ConfigureAwait(false);
            }
            lock (_gate)
            {
                // A change that arrived after the loop read the keys found this flush running: it is picked up here.
                if (_dirty.IsEmpty)
                {
                    _running = false;
                    return;
                }
            }
        }
    }

    private async Task WriteAsync(string credential)
    {
        var path = Path.Combine(_dir, FileName(credential));
        var now = _clock.GetUtcNow();
        var entries = _book.Of(credential).Where(e => e.Cooldown.Until > now).ToList();
        try
        {
            if (entries.Count == 0)
            {
                if (File.Exists(path)) File.Delete(path);
                return;
            }
            var json = new JsonObject
            {
                ["credential"] = credential,
                ["cooldowns"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject
                {
                    ["model"] = e.Model,
                    ["until"] = e.Cooldown.Until.UtcDateTime.ToString("O"),
                    ["kind"] = e.Cooldown.Kind.ToString(),
                    ["status"] = e.Cooldown.Status,
                    ["level"] = e.Cooldown.BackoffLevel,
                })]),
            };
            await AtomicFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(json, JsonNodeContext.Default.JsonNode)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(path, e.Message);
        }
    }

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Unsafe();

    [LoggerMessage(LogLevel.Warning, "Cooldown file {Path} could not be read and was skipped: {Reason}")]
    private partial void LogUnreadable(string path, string reason);

    [LoggerMessage(LogLevel.Warning, "Cooldown file {Path} could not be written: {Reason}")]
    private partial void LogWriteFailed(string path, string reason);
}
