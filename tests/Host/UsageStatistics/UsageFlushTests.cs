using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Config;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Tests.Host.UsageStatistics;

/// <summary>The flush writes a batch in several transactions; what one commits is never written twice.</summary>
public sealed class UsageFlushTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_batch_bigger_than_a_chunk_is_stored_whole_in_several_transactions()
    {
        var dir = UsageTestKit.TempDir();
        var calls = new List<int>();
        using (var recorder = Recorder(dir, chunk: 100, store => new FlakyStore(store, calls, failAtCall: -1)))
        {
            foreach (var r in Records(250)) recorder.Enqueue(r);
            await recorder.FlushAsync();
            Assert.Equal([100, 100, 50], calls);
        }

        using var reader = SqliteUsageStore.Open(Path.Combine(dir, "usage.db"));
        Assert.Equal(Records(250), await reader.ReadRecentAsync(1000, default));
        Assert.Equal(250, await RolledUpAsync(reader));
    }

    [Fact]
    public async Task A_failure_mid_flush_retries_only_what_was_not_committed()
    {
        var dir = UsageTestKit.TempDir();
        var calls = new List<int>();
        using (var recorder = Recorder(dir, chunk: 100, store => new FlakyStore(store, calls, failAtCall: 2)))
        {
            foreach (var r in Records(250)) recorder.Enqueue(r);
            await Assert.ThrowsAsync<IOException>(() => recorder.FlushAsync());
            foreach (var r in Records(260).Skip(250)) recorder.Enqueue(r); // recorded meanwhile
            await recorder.FlushAsync();

            Assert.Equal([100, 100, 60], calls); // the second chunk failed (not noted); then its 150 and the newer ten
            Assert.Equal(260, recorder.Totals().Requests);
        }

        using var reader = SqliteUsageStore.Open(Path.Combine(dir, "usage.db"));
        var stored = await reader.ReadRecentAsync(1000, default);
        Assert.Equal(Records(260), stored.OrderBy(r => r.Timestamp)); // each once
        Assert.Equal(260, await RolledUpAsync(reader));
    }

    [Fact]
    public void The_cached_client_key_label_is_the_stored_label()
    {
        var key = "sk-cached-" + Guid.NewGuid().ToString("N");
        var first = ClientKeyLabel.Cached(key);
        Assert.Equal(ClientKeyLabel.Of(key), first);
        Assert.Same(first, ClientKeyLabel.Cached(new string(key.AsSpan()))); // a fresh copy of the key (as parsed from a header) hits the cache
        Assert.Equal(ClientKeyLabel.Of("sk-other"), ClientKeyLabel.Cached("sk-other"));
        // The label is kept in databases and exports: its value for a given key must never change.
        Assert.Equal("key-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("pluginproxy-usage\0sk-secret-123"u8)[..4]), ClientKeyLabel.Cached("sk-secret-123"));
    }

    [Fact]
    public void The_label_cache_stays_bounded()
    {
        for (var i = 0; i < ClientKeyLabel.MaxCached + 10; i++)
            Assert.Equal(ClientKeyLabel.Of("sk-many-" + i), ClientKeyLabel.Cached("sk-many-" + i));
        Assert.InRange(ClientKeyLabel.CachedCount, 1, ClientKeyLabel.MaxCached);
    }

    private static List<UsageRecord> Records(int n) =>
        [.. Enumerable.Range(0, n).Select(i => UsageTestKit.Record(T0.AddSeconds(i * 30), model: i % 3 == 0 ? "m" : "n", input: i))];

    private static async Task<long> RolledUpAsync(SqliteUsageStore store)
    {
        long requests = 0;
        await foreach (var r in store.ReadRollupsAsync(default)) requests += r.Counters.Requests;
        return requests;
    }

    private static UsageRecorder Recorder(string dir, int chunk, Func<IUsageStore, IUsageStore> wrap)
    {
        var config = Path.Combine(dir, "config.yaml");
        File.WriteAllText(config, "");
        var recorder = new UsageRecorder(new ConfigStore(ConfigLoader.LoadFile(config)), TimeProvider.System, NullLogger<UsageRecorder>.Instance,
            openStore: path => wrap(SqliteUsageStore.Open(path))) { FlushChunk = chunk };
        recorder.Start();
        return recorder;
    }

    /// <summary>The real store, noting each append's size and failing the given call (1-based) once, before it writes.</summary>
    private sealed class FlakyStore(IUsageStore inner, List<int> calls, int failAtCall) : IUsageStore
    {
        private int _call;

        public Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
        {
            if (++_call == failAtCall) throw new IOException("disk full");
            calls.Add(records.Count);
            return inner.AppendAsync(records, cancellationToken);
        }

        public Task<IReadOnlyList<UsageRecord>> ImportAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken) => inner.ImportAsync(records, cancellationToken);
        public IAsyncEnumerable<UsageRollup> ReadRollupsAsync(CancellationToken cancellationToken) => inner.ReadRollupsAsync(cancellationToken);
        public Task<IReadOnlyList<UsageRecord>> ReadRecentAsync(int count, CancellationToken cancellationToken) => inner.ReadRecentAsync(count, cancellationToken);
        public IAsyncEnumerable<UsageRecord> ReadAllAsync(CancellationToken cancellationToken) => inner.ReadAllAsync(cancellationToken);
        public void Dispose() => inner.Dispose();
    }
}
