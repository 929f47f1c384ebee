namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// Where usage statistics are kept for good: every request, and hourly sums per client key, credential, provider and
/// model (what startup loads back). <see cref="SqliteUsageStore"/> is the embedded default; a server database can
/// implement the same five calls. Calls may come from several threads; writes are never concurrent.
/// </summary>
internal interface IUsageStore : IDisposable
{
    /// <summary>Adds requests recorded by this server, all or nothing (one transaction).</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>Adds imported requests, skipping any whose <see cref="UsageRecord.DedupKey"/> is already stored (or repeats within the batch); returns the added ones.</summary>
    Task<IReadOnlyList<UsageRecord>> ImportAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>The hourly sums, oldest first.</summary>
    IAsyncEnumerable<UsageRollup> ReadRollupsAsync(CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="count"/> requests, oldest first.</summary>
    Task<IReadOnlyList<UsageRecord>> ReadRecentAsync(int count, CancellationToken cancellationToken);

    /// <summary>Every request, ordered by client key, model and time (the export).</summary>
    IAsyncEnumerable<UsageRecord> ReadAllAsync(CancellationToken cancellationToken);
}

/// <summary>The sums of one hour (UTC) for one combination of client key, provider, credential and model.</summary>
internal readonly record struct UsageRollup(DateTime Hour, UsageDimensions Dimensions, UsageCounters Counters);
