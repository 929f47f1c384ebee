namespace PluginProxy.Host.Watching;

/// <summary>
/// Watches a directory and calls back once things have been quiet for <c>delay</c>, with the set of paths that
/// changed. Editors and copy tools write in bursts (truncate, write, rename); acting on the first event would read
/// half a file. One instance serves the config file, the credential folder and the plugin folder alike.
/// </summary>
internal sealed class DebouncedWatcher : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly TimeSpan _delay;
    private readonly Func<IReadOnlyCollection<string>, Task> _onChange;
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private HashSet<string> _pending = new(StringComparer.Ordinal);
    private int _running;

    public DebouncedWatcher(string directory, string filter, bool recursive, TimeSpan delay, Func<IReadOnlyCollection<string>, Task> onChange)
    {
        _delay = delay;
        _onChange = onChange;
        _timer = new Timer(_ => Fire());
        _watcher = new FileSystemWatcher(directory, filter)
        {
            IncludeSubdirectories = recursive,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Changed += (_, e) => Touch(e.FullPath);
        _watcher.Created += (_, e) => Touch(e.FullPath);
        _watcher.Deleted += (_, e) => Touch(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Touch(e.OldFullPath);
            Touch(e.FullPath);
        };
        // Lost events (buffer overflow): treat the whole directory as changed.
        _watcher.Error += (_, _) => Touch(directory);
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Marks a path as changed, as if the file system had reported it (used after our own writes, and by tests).</summary>
    public void Touch(string path)
    {
        lock (_gate)
        {
            _pending.Add(path);
            _timer.Change(_delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        // One callback at a time; changes arriving meanwhile re-arm the timer and are handled next.
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            lock (_gate) _timer.Change(_delay, Timeout.InfiniteTimeSpan);
            return;
        }
        HashSet<string> batch;
        lock (_gate)
        {
            batch = _pending;
            _pending = new HashSet<string>(StringComparer.Ordinal);
        }
        _ = RunAsync(batch);
    }

    private async Task RunAsync(HashSet<string> batch)
    {
        try
        {
            if (batch.Count > 0) await _onChange(batch).ConfigureAwait(false);
        }
        catch
        {
            // The callback logs its own failures; a watcher must survive them.
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _timer.Dispose();
    }
}
