using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Config;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// The credentials the server can use: auth-dir files (watched live) plus the API-key blocks of the config.
/// Publishes an immutable <see cref="CredentialSnapshot"/> on every change. A file that is not valid JSON yet
/// (half-written) is ignored and its previous version, if any, keeps serving until it is complete. The server's
/// own writes update the snapshot directly and are recognised by hash when the watcher reports them.
/// </summary>
internal sealed partial class CredentialStore : IDisposable
{
    private readonly ConfigStore _config;
    private readonly ILogger _logger;
    private readonly Lock _writeGate = new();
    // One writer per file at a time (logins, refreshes, metadata updates), so none loses another's fields.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _fileGates = new(StringComparer.Ordinal);
    private ImmutableDictionary<string, FileState> _files = ImmutableDictionary<string, FileState>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableArray<CredentialRecord> _fromConfig = [];
    // Runtime credentials (contract 2.2, relay sessions): memory only, each with the handle that may withdraw it.
    private ImmutableDictionary<string, RuntimeEntry> _runtime = ImmutableDictionary<string, RuntimeEntry>.Empty.WithComparers(StringComparer.Ordinal);
    private CredentialSnapshot _snapshot = CredentialSnapshot.Empty;
    private DebouncedWatcher? _watcher;
    private string _authDir;
    private long _revision;

    private sealed record FileState(string Hash, CredentialRecord? Record);

    private sealed record RuntimeEntry(CredentialRecord Record, object Owner);

    public CredentialStore(ConfigStore config, ILogger<CredentialStore> logger)
    {
        _config = config;
        _logger = logger;
        _authDir = ResolveAuthDir(config.Current);
        _fromConfig = [.. ConfigCredentials.Synthesize(config.Config)];
        config.Changed += OnConfigChanged;
    }

    public CredentialSnapshot Current => Volatile.Read(ref _snapshot);

    public string AuthDir => Volatile.Read(ref _authDir);

    /// <summary>Raised after a new snapshot is published.</summary>
    public event Action<CredentialSnapshot>? Changed;

    /// <summary>Expands <c>~</c> and resolves relative paths against the config file's folder.</summary>
    public static string ResolveAuthDir(LoadedConfig config)
    {
        var dir = string.IsNullOrWhiteSpace(config.Config.AuthDir) ? "~/.cli-proxy-api" : config.Config.AuthDir.Trim();
        if (dir == "~" || dir.StartsWith("~/", StringComparison.Ordinal))
            dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), dir.Length > 2 ? dir[2..] : "");
        return Path.GetFullPath(dir, config.BaseDirectory);
    }

    /// <summary>Creates auth-dir if needed, loads every file and starts watching.</summary>
    public async Task StartAsync()
    {
        var dir = AuthDir;
        if (!Directory.Exists(dir))
        {
            var created = OperatingSystem.IsWindows()
                ? Directory.CreateDirectory(dir)
                : Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            LogCreatedDir(created.FullName);
        }
        await RescanAsync(Directory.EnumerateFiles(dir, "*.json").ToList()).ConfigureAwait(false);
        // Publish even when no file changed anything: the config's API-key credentials must be served from the start.
        lock (_writeGate) PublishLocked();
        _watcher = new DebouncedWatcher(dir, "*.json", recursive: false, TimeSpan.FromMilliseconds(200), RescanAsync);
        LogLoaded(Current.All.Length, dir);
    }

    /// <summary>
    /// Writes a credential file atomically (0600) and publishes it at once; the watcher's echo of this write is a no-op.
    /// Returns the record, or null when the content is not a usable credential.
    /// </summary>
    public async Task<CredentialRecord?> WriteAsync(string fileName, JsonObject content, CancellationToken cancellationToken = default)
    {
        if (fileName != Path.GetFileName(fileName) || !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException("credential file name must be a plain *.json name", nameof(fileName));
        var path = Path.Combine(AuthDir, fileName);
        var gate = FileGate(path);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteLockedAsync(path, JsonText.SerializeToUtf8(content), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Deletes a credential file and publishes its removal at once (the management API); false when it was not there.
    /// </summary>
    public async Task<bool> DeleteAsync(string fileName, CancellationToken cancellationToken = default)
    {
        if (fileName != Path.GetFileName(fileName) || !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException("credential file name must be a plain *.json name", nameof(fileName));
        var path = Path.Combine(AuthDir, fileName);
        var gate = FileGate(path);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var existed = File.Exists(path);
            if (existed) File.Delete(path);
            lock (_writeGate)
            {
                if (Remove(path)) PublishLocked();
            }
            return existed;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Applies <paramref name="edit"/> to the credential file's current JSON and writes it like <see cref="WriteAsync"/>
    /// (atomic, 0600, published once, no reload). Updates and refreshes of one file run one at a time, each on the
    /// other's result. Returns the new record; null (nothing written) for config credentials and files that are gone.
    /// </summary>
    public async Task<CredentialRecord?> UpdateAsync(CredentialRecord credential, Action<JsonObject> edit, CancellationToken cancellationToken = default)
    {
        if (PathOf(credential) is not { } path) return null;
        var gate = FileGate(path);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ReadCurrent(path) is not { } current) return null;
            edit(current);
            return await WriteLockedAsync(path, JsonText.SerializeToUtf8(current), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Saves what a token refresh returned. <paramref name="basis"/> is the record the refresh started from: fields the
    /// refresh did not change keep the file's current value, so an update that landed during the refresh survives.
    /// Returns null (nothing written) when the file is gone: a deleted account is not brought back.
    /// </summary>
    internal async Task<CredentialRecord?> WriteRefreshedAsync(CredentialRecord basis, JsonObject refreshed, CancellationToken cancellationToken = default)
    {
        if (PathOf(basis) is not { } path) return null;
        var gate = FileGate(path);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ReadCurrent(path) is not { } current) return null;
            var merged = Merge(basis.Metadata, refreshed, current);
            return await WriteLockedAsync(path, JsonText.SerializeToUtf8(merged), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    // Top-level three-way merge: the refresh's value where it changed the field, the file's current value elsewhere.
    internal static JsonObject Merge(JsonElement basis, JsonObject refreshed, JsonObject current)
    {
        var before = basis.ValueKind == JsonValueKind.Object ? JsonObject.Create(basis)! : new JsonObject();
        var result = new JsonObject();
        foreach (var name in current.Select(p => p.Key).Concat(refreshed.Select(p => p.Key)).Distinct(StringComparer.Ordinal).ToList())
        {
            var changedByRefresh = refreshed.ContainsKey(name) != before.ContainsKey(name) || !JsonNode.DeepEquals(refreshed[name], before[name]);
            var source = changedByRefresh ? refreshed : current;
            if (source.TryGetPropertyValue(name, out var value)) result[name] = value?.DeepClone();
        }
        return result;
    }

    private string? PathOf(CredentialRecord credential) =>
        credential.Source == CredentialSource.File && credential.FilePath is { } file ? Path.Combine(AuthDir, Path.GetFileName(file)) : null;

    private SemaphoreSlim FileGate(string path) => _fileGates.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));

    // The file as it is now; if someone else's write left it unreadable, the last good version this store holds.
    private JsonObject? ReadCurrent(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            if (JsonNode.Parse(bytes) is JsonObject parsed) return parsed;
        }
        catch (JsonException)
        {
        }
        return _files.TryGetValue(path, out var known) && known.Record is { Metadata.ValueKind: JsonValueKind.Object } record
            ? JsonObject.Create(record.Metadata)!.DeepClone().AsObject()
            : throw new InvalidOperationException($"credential file {Path.GetFileName(path)} is not a JSON object");
    }

    private async Task<CredentialRecord?> WriteLockedAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        await AtomicFile.WriteAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        var record = AuthFileParser.Parse(path, AuthDir, bytes);
        lock (_writeGate)
        {
            _files = _files.SetItem(path, new FileState(HashOf(bytes), record));
            PublishLocked();
        }
        return record;
    }

    private Task RescanAsync(IReadOnlyCollection<string> paths)
    {
        lock (_writeGate)
        {
            var changed = false;
            foreach (var path in ExpandDirectoryEvents(paths))
                changed |= Apply(path);
            if (changed) PublishLocked();
        }
        return Task.CompletedTask;
    }

    // A lost-events notification names the directory itself: re-read everything, and forget files that are gone.
    private IEnumerable<string> ExpandDirectoryEvents(IReadOnlyCollection<string> paths)
    {
        foreach (var path in paths)
        {
            if (!Directory.Exists(path))
            {
                yield return path;
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(path, "*.json")) yield return file;
            foreach (var known in _files.Keys.Where(k => !File.Exists(k))) yield return known;
        }
    }

    private bool Apply(string path)
    {
        if (!path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(path).StartsWith('.')) return false;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return Remove(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Remove(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // One unreadable file (wrong owner, mid-replace) must not stop the others or the server.
            LogUnreadable(Path.GetFileName(path), e.GetType().Name);
            return false;
        }
        var hash = HashOf(bytes);
        if (_files.TryGetValue(path, out var known) && known.Hash == hash) return false;
        var record = AuthFileParser.Parse(path, AuthDir, bytes);
        if (record is null)
        {
            // Half-written or not a credential: keep whatever was there before; try again on the next change.
            LogIgnored(Path.GetFileName(path));
            return false;
        }
        _files = _files.SetItem(path, new FileState(hash, record));
        LogFileLoaded(record.Id, record.Type);
        return true;
    }

    private bool Remove(string path)
    {
        if (!_files.ContainsKey(path)) return false;
        _files = _files.Remove(path);
        LogFileRemoved(Path.GetFileName(path));
        return true;
    }

    private void OnConfigChanged(LoadedConfig previous, LoadedConfig next)
    {
        lock (_writeGate)
        {
            _fromConfig = [.. ConfigCredentials.Synthesize(next.Config)];
            PublishLocked();
        }
    }

    /// <summary>
    /// Publishes a runtime credential (never written to disk) on behalf of <paramref name="owner"/>; one with the same id
    /// replaces the earlier one, whoever owned it. An id already used by a file or config credential is refused (false).
    /// </summary>
    internal bool AddRuntime(CredentialRecord record, object owner)
    {
        lock (_writeGate)
        {
            if (_fromConfig.Any(r => r.Id == record.Id) || _files.Values.Any(f => f.Record?.Id == record.Id)) return false;
            _runtime = _runtime.SetItem(record.Id, new RuntimeEntry(record with { Source = CredentialSource.Runtime, FilePath = null }, owner));
            PublishLocked();
        }
        LogRuntimeAdded(record.Id, record.Type);
        return true;
    }

    /// <summary>Withdraws a runtime credential, unless a later <see cref="AddRuntime"/> by another owner replaced it.</summary>
    internal bool RemoveRuntime(string id, object owner)
    {
        lock (_writeGate)
        {
            if (!_runtime.TryGetValue(id, out var entry) || !ReferenceEquals(entry.Owner, owner)) return false;
            _runtime = _runtime.Remove(id);
            PublishLocked();
        }
        LogRuntimeRemoved(id);
        return true;
    }

    private void PublishLocked()
    {
        var stored = _files.Values.Select(f => f.Record).OfType<CredentialRecord>().SelectMany(AuthFileParser.ExpandProjects).Concat(_fromConfig).ToList();
        // A file that appeared later with a runtime credential's id wins: ids must stay unique in the snapshot.
        var taken = stored.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var records = stored.Concat(_runtime.Values.Select(e => e.Record).Where(r => !taken.Contains(r.Id)));
        var snapshot = new CredentialSnapshot(records, ++_revision);
        Volatile.Write(ref _snapshot, snapshot);
        Changed?.Invoke(snapshot);
    }

    private static string HashOf(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    public void Dispose()
    {
        _config.Changed -= OnConfigChanged;
        _watcher?.Dispose();
    }

    [LoggerMessage(LogLevel.Information, "Created credential folder {Dir}")]
    private partial void LogCreatedDir(string dir);

    [LoggerMessage(LogLevel.Information, "{Count} credentials loaded; watching {Dir}")]
    private partial void LogLoaded(int count, string dir);

    [LoggerMessage(LogLevel.Information, "Credential {Id} ({Type}) loaded")]
    private partial void LogFileLoaded(string id, string type);

    [LoggerMessage(LogLevel.Information, "Runtime credential {Id} ({Type}) added")]
    private partial void LogRuntimeAdded(string id, string type);

    [LoggerMessage(LogLevel.Information, "Runtime credential {Id} withdrawn")]
    private partial void LogRuntimeRemoved(string id);

    [LoggerMessage(LogLevel.Information, "Credential file {File} removed")]
    private partial void LogFileRemoved(string file);

    [LoggerMessage(LogLevel.Debug, "Credential file {File} is not a JSON object with a \"type\" (yet); ignored until it is")]
    private partial void LogIgnored(string file);

    [LoggerMessage(LogLevel.Warning, "Credential file {File} could not be read ({Error}); will retry on the next change")]
    private partial void LogUnreadable(string file, string error);
}
