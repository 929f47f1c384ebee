using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
using PluginProxy.Host.Proxying;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// Usage statistics (<c>usage-statistics-enabled</c>). The request path only enqueues a record (a lock-free queue with
/// a bound; beyond it records are counted as dropped); a background loop moves them into the in-memory
/// <see cref="UsageAggregator"/> and writes them to the <see cref="IUsageStore"/> every
/// <c>usage-statistics-flush-seconds</c>, in transactions of <see cref="FlushChunk"/> records with a yield between them
/// (the proxy may have one core: a long write would stall requests). Dispose flushes what is left. Startup loads the stored
/// sums back. The database is created only when the first record (or an import) needs it.
/// </summary>
internal sealed partial class UsageRecorder : IDisposable
{
    /// <summary>The largest batch list kept for reuse by the next flush (a few seconds at a busy server's rate).</summary>
    private const int MaxSpareCapacity = 32 * 1024;

    /// <summary>Records waiting for the background loop; a stalled writer cannot grow memory beyond this.</summary>
    internal const int MaxQueued = 100_000;

    /// <summary>How often the background loop moves queued records into the aggregator (writes stay at the flush interval).</summary>
    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Records per transaction of a flush: short bursts, while a commit stays rare enough to be cheap.</summary>
    internal int FlushChunk { get; init; } = 1000;

    private readonly ConfigStore _config;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Func<string, IUsageStore> _openStore;
    private readonly ConcurrentQueue<UsageRecord> _queue = new();
    private readonly UsageAggregator _aggregator;
    private readonly Lock _gate = new(); // the aggregator and _unsaved; never taken on the request path
    private readonly SemaphoreSlim _storeGate = new(1, 1); // store writes: flush, import
    private readonly CancellationTokenSource _stop = new();
    private List<UsageRecord> _unsaved = [];
    private List<UsageRecord>? _spare; // the last written batch, emptied: the next one fills it instead of regrowing a list per flush
    private IUsageStore? _store;
    private bool _storeFailed;
    private int _queued;
    private long _dropped;
    private Task _loop = Task.CompletedTask;
    private bool _disposed;

    public UsageRecorder(ConfigStore config, TimeProvider clock, ILogger<UsageRecorder> logger, UsageLimits? limits = null, Func<string, IUsageStore>? openStore = null)
    {
        _config = config;
        _clock = clock;
        _logger = logger;
        _openStore = openStore ?? SqliteUsageStore.Open;
        _aggregator = new UsageAggregator(limits ?? new UsageLimits());
        DatabasePath = Path.GetFullPath(config.Current.Config.UsageStatisticsDatabase is { Length: > 0 } path ? path : "usage.db", config.Current.BaseDirectory);
    }

    /// <summary>The database file, fixed at start.</summary>
    public string DatabasePath { get; }

    public bool Enabled => _config.Config.UsageStatisticsEnabled;

    /// <summary>Records dropped because the queue was full (the writer stalled).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Loads the stored statistics (when the database exists) and starts the background writer.</summary>
    public void Start()
    {
        if (File.Exists(DatabasePath) && EnsureStore() is { } store) Load(store);
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// The request path's one call (from the access-log middleware, when the request is finished): records an
    /// inference request once. Cheap: a few field reads, the client key's cached label, one enqueue; no lock, no I/O.
    /// </summary>
    public void Record(HttpContext http, RequestTrace trace, int status, double elapsedMs)
    {
        if (trace.Model is null || !Enabled) return; // not an inference request (or a token count), or statistics are off
        var key = http.Features.Get<ClientKeyFeature>()?.Key is { } clientKey
            ? ClientKeyLabel.Cached(clientKey)
            : $"{http.Request.Method} {http.Request.Path.Value}"; // no key configured: CLIProxyAPI's name for keyless requests
        var failed = status >= 400 || trace.FailedAfterStart || http.RequestAborted.IsCancellationRequested;
        var latency = TimeSpan.FromMilliseconds(Math.Max(0, elapsedMs));
        var dimensions = new UsageDimensions(key, trace.Provider ?? "", trace.CredentialId ?? "", trace.Credential ?? "", ModelName.Parse(trace.Model).Base);
        Enqueue(new UsageRecord(_clock.GetUtcNow() - latency, dimensions, failed, (long)latency.TotalMilliseconds, UsageTokens.From(trace.Usage)));
    }

    internal void Enqueue(in UsageRecord record)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _queue.Enqueue(record);
    }

    /// <summary>CLIProxyAPI's <c>GET /usage</c> body (with PluginProxy's <c>breakdown</c>), including requests not yet written to the database.</summary>
    public byte[] SnapshotJson()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            lock (_gate)
            {
                DrainLocked();
                _aggregator.WriteSnapshot(json, Enabled, Dropped);
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The in-memory totals (tests and the endpoints' import answer).</summary>
    public UsageCounters Totals()
    {
        lock (_gate)
        {
            DrainLocked();
            return _aggregator.Total;
        }
    }

    /// <summary>Records enqueued and not yet moved into the aggregator.</summary>
    internal int Queued => Volatile.Read(ref _queued);

    internal int AggregatorEntries()
    {
        lock (_gate)
        {
            DrainLocked();
            return _aggregator.EntryCount;
        }
    }

    /// <summary>Writes what has been recorded to the database now (the periodic flush does the same).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _storeGate.WaitAsync(cancellationToken);
        try
        {
            await FlushLockedAsync(cancellationToken);
        }
        finally
        {
            _storeGate.Release();
        }
    }

    /// <summary>Writes the export (CLIProxyAPI's shape, every stored request) to <paramref name="output"/>.</summary>
    public async Task WriteExportAsync(Stream output, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await using var json = new Utf8JsonWriter(output);
        var records = _store is { } store ? store.ReadAllAsync(cancellationToken) : Empty();
        await UsageJson.WriteExportAsync(json, records, _clock.GetUtcNow(), () => json.FlushAsync(cancellationToken), cancellationToken);
        await json.FlushAsync(cancellationToken);

        static async IAsyncEnumerable<UsageRecord> Empty()
        {
            await Task.CompletedTask;
            yield break;
        }
    }

    /// <summary>
    /// Merges imported requests: those already stored (same de-duplication key as CLIProxyAPI's) are skipped, the rest
    /// are stored and counted. Returns (added, skipped). Throws <see cref="IOException"/> when there is no database.
    /// </summary>
    public async Task<(int Added, int Skipped)> ImportAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        await _storeGate.WaitAsync(cancellationToken);
        try
        {
            await FlushLockedAsync(cancellationToken); // so the de-duplication sees everything recorded so far
            var store = EnsureStore() ?? throw new IOException("the usage database is not available; see the server log");
            var added = await store.ImportAsync(records, cancellationToken);
            lock (_gate)
                foreach (var record in added.OrderBy(r => r.Timestamp)) _aggregator.Add(record);
            return (added.Count, records.Count - added.Count);
        }
        finally
        {
            _storeGate.Release();
        }
    }

    /// <summary>Tests: stops the background loop without the final flush, as a killed process would.</summary>
    internal void Abandon()
    {
        _disposed = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            _store?.Dispose();
            return;
        }
        _disposed = true;
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // The loop ends by cancellation.
        }
        try
        {
            FlushAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogFlushFailed(e, DatabasePath);
        }
        _store?.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var lastFlush = Environment.TickCount64;
        var lastFailed = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                // The queue is drained often, so it stays within the segment it already has: filled for a whole flush
                // interval it would grow new (large object heap) segments every time, fresh memory the GC must clear.
                await Task.Delay(DrainInterval, TimeProvider.System, stop);
                var backlog = 0;
                if (Volatile.Read(ref _queued) > 0)
                {
                    lock (_gate)
                    {
                        DrainLocked();
                        backlog = _unsaved.Count;
                    }
                }
                var seconds = Math.Max(1, _config.Config.UsageStatisticsFlushSeconds);
                // A long flush interval at a high rate writes early, while the batch list still fits the one kept for reuse
                // (not after a failure: a broken database is retried at the interval, not every drain).
                var early = backlog >= MaxSpareCapacity && !lastFailed;
                if (!early && Environment.TickCount64 - lastFlush < seconds * 1000L) continue;
                lastFlush = Environment.TickCount64;
                lastFailed = true;
                await FlushAsync(stop);
                lastFailed = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogFlushFailed(e, DatabasePath);
            }
        }
    }

    private async Task FlushLockedAsync(CancellationToken cancellationToken)
    {
        List<UsageRecord> batch;
        lock (_gate)
        {
            DrainLocked();
            if (_unsaved.Count == 0) return;
            batch = _unsaved;
            _unsaved = _spare ?? [];
            _spare = null;
        }
        if (EnsureStore() is not { } store) return; // memory only: the statistics still count, nothing is kept
        var written = 0;
        try
        {
            while (written < batch.Count)
            {
                if (written > 0) await Task.Yield(); // let requests queued behind this flush run between transactions
                var count = Math.Min(FlushChunk, batch.Count - written);
                await store.AppendAsync(count == batch.Count ? batch : new Slice(batch, written, count), cancellationToken);
                written += count; // committed: never written again
            }
            if (batch.Capacity <= MaxSpareCapacity) // a burst's large list is not kept for good
            {
                batch.Clear();
                _spare = batch; // flushes are serialised by _storeGate
            }
        }
        catch
        {
            lock (_gate)
            {
                // What was not committed is retried at the next flush; a database that stays broken cannot grow memory without bound.
                batch.RemoveRange(0, written);
                batch.AddRange(_unsaved);
                _unsaved = batch.Count > MaxQueued ? batch[^MaxQueued..] : batch;
            }
            throw;
        }
    }

    /// <summary>A part of a flush's batch, without a copy.</summary>
    private sealed class Slice(List<UsageRecord> list, int start, int count) : IReadOnlyList<UsageRecord>
    {
        public UsageRecord this[int index] => (uint)index < (uint)count ? list[start + index] : throw new ArgumentOutOfRangeException(nameof(index));
        public int Count => count;
        public IEnumerator<UsageRecord> GetEnumerator()
        {
            for (var i = 0; i < count; i++) yield return list[start + i];
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private void DrainLocked()
    {
        // The unsaved backlog has the queue's bound: past it records wait in the queue, which drops (and counts) the excess.
        while (_unsaved.Count < MaxQueued && _queue.TryDequeue(out var record))
        {
            Interlocked.Decrement(ref _queued);
            _aggregator.Add(record);
            _unsaved.Add(record);
        }
    }

    private IUsageStore? EnsureStore()
    {
        if (_store is not null || _storeFailed) return _store;
        try
        {
            _store = _openStore(DatabasePath);
            LogOpened(DatabasePath);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _storeFailed = true; // once: usage then lives in memory until a restart
            LogOpenFailed(e, DatabasePath);
        }
        return _store;
    }

    private void Load(IUsageStore store)
    {
        try
        {
            lock (_gate)
            {
                var rollups = store.ReadRollupsAsync(CancellationToken.None).ToBlockingEnumerable();
                foreach (var rollup in rollups) _aggregator.AddCounters(rollup.Hour, rollup.Dimensions, rollup.Counters);
                foreach (var record in store.ReadRecentAsync(_aggregator.Limits.RecentDetails, CancellationToken.None).GetAwaiter().GetResult())
                    _aggregator.AddRecent(record);
                LogLoaded(_aggregator.Total.Requests, DatabasePath);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogOpenFailed(e, DatabasePath);
        }
    }

    [LoggerMessage(LogLevel.Information, "Usage statistics: {Requests} requests loaded from {Path}")]
    private partial void LogLoaded(long requests, string path);

    [LoggerMessage(LogLevel.Information, "Usage statistics are kept in {Path}")]
    private partial void LogOpened(string path);

    [LoggerMessage(LogLevel.Warning, "Usage statistics: cannot open {Path}; statistics are kept in memory only until a restart")]
    private partial void LogOpenFailed(Exception exception, string path);

    [LoggerMessage(LogLevel.Warning, "Usage statistics: writing to {Path} failed; retrying at the next flush")]
    private partial void LogFlushFailed(Exception exception, string path);
}
