using Microsoft.Data.Sqlite;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Tests.Host.UsageStatistics;

public sealed class SqliteUsageStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 2, 7, 13, 45, 12, 123, TimeSpan.Zero);

    [Fact]
    public async Task The_native_library_loads_and_records_round_trip_in_a_wal_database()
    {
        var path = Path.Combine(UsageTestKit.TempDir(), "sub", "usage.db");
        using (var store = SqliteUsageStore.Open(path))
        {
            await store.AppendAsync([UsageTestKit.Record(T0.AddTicks(7), failed: true), UsageTestKit.Record(T0.AddMinutes(1), model: "n", input: 1)], default);
            var all = new List<UsageRecord>();
            await foreach (var r in store.ReadAllAsync(default)) all.Add(r);
            Assert.Equal([UsageTestKit.Record(T0.AddTicks(7), failed: true), UsageTestKit.Record(T0.AddMinutes(1), model: "n", input: 1)], all);
            var rollups = new List<UsageRollup>();
            await foreach (var r in store.ReadRollupsAsync(default)) rollups.Add(r);
            Assert.Equal(2, rollups.Count); // one hour, two models
            Assert.All(rollups, r => Assert.Equal(new DateTime(2026, 2, 7, 13, 0, 0, DateTimeKind.Utc), r.Hour));
            Assert.Equal(1, rollups.Single(r => r.Dimensions.Model == "m").Counters.Failures);
        }

        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public async Task Import_skips_what_is_stored_and_what_repeats_within_the_batch()
    {
        using var store = SqliteUsageStore.Open(Path.Combine(UsageTestKit.TempDir(), "usage.db"));
        var a = UsageTestKit.Record(T0);
        var b = UsageTestKit.Record(T0.AddSeconds(1));
        await store.AppendAsync([a], default);

        var added = await store.ImportAsync([a, b, b, a with { LatencyMs = 999 }], default); // latency is not part of the key, as in CLIProxyAPI

        Assert.Equal([b], added);
        Assert.Empty(await store.ImportAsync([a, b], default));
    }

    [Fact]
    public async Task Recent_requests_come_back_oldest_first()
    {
        using var store = SqliteUsageStore.Open(Path.Combine(UsageTestKit.TempDir(), "usage.db"));
        await store.AppendAsync([.. Enumerable.Range(0, 10).Select(i => UsageTestKit.Record(T0.AddSeconds(i), input: i))], default);

        var recent = await store.ReadRecentAsync(3, default);

        Assert.Equal([7L, 8L, 9L], recent.Select(r => r.Tokens.Input));
    }
}
