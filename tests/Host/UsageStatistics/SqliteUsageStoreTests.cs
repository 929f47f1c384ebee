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

    [Fact]
    public async Task Import_keeps_near_duplicates_that_differ_in_any_field_of_the_key()
    {
        using var store = SqliteUsageStore.Open(Path.Combine(UsageTestKit.TempDir(), "usage.db"));
        var a = UsageTestKit.Record(T0);
        await store.AppendAsync([a], default);
        UsageRecord[] near =
        [
            a with { Timestamp = a.Timestamp.AddTicks(1) },
            a with { Dimensions = a.Dimensions with { ClientKey = "key-00000002" } },
            a with { Dimensions = a.Dimensions with { Model = "m2" } },
            a with { Dimensions = a.Dimensions with { Credential = "other@example.com" } },
            a with { Dimensions = a.Dimensions with { CredentialId = "c9" } },
            a with { Failed = true },
            a with { Tokens = a.Tokens with { Input = 11 } },
            a with { Tokens = a.Tokens with { Output = 6 } },
            a with { Tokens = a.Tokens with { Reasoning = 3 } },
            a with { Tokens = a.Tokens with { Cached = 4 } },
            a with { Tokens = a.Tokens with { Total = 99 } },
        ];

        var added = await store.ImportAsync([.. near, a with { Dimensions = a.Dimensions with { Provider = "other" } }], default);

        Assert.Equal(near, added); // the provider is not part of CLIProxyAPI's key: that one is an exact repeat
        Assert.Empty(await store.ImportAsync(near, default));
        Assert.Equal(12, await CountAsync(store));
    }

    [Fact]
    public async Task Hourly_sums_are_exact_when_a_call_holds_many_requests_of_the_same_hour_and_across_calls()
    {
        using var store = SqliteUsageStore.Open(Path.Combine(UsageTestKit.TempDir(), "usage.db"));
        var batch = Enumerable.Range(0, 500).Select(i => UsageTestKit.Record(T0.AddSeconds(i * 10), model: i % 2 == 0 ? "m" : "n", failed: i % 5 == 0, input: i)).ToList();
        await store.AppendAsync(batch[..300], default);
        await store.AppendAsync(batch[300..], default);

        var rollups = new List<UsageRollup>();
        await foreach (var r in store.ReadRollupsAsync(default)) rollups.Add(r);

        foreach (var group in batch.GroupBy(r => (UsageAggregator.HourOf(r.Timestamp), r.Dimensions)))
        {
            var rollup = Assert.Single(rollups, r => r.Hour == group.Key.Item1 && r.Dimensions == group.Key.Dimensions);
            Assert.Equal(group.Count(), rollup.Counters.Requests);
            Assert.Equal(group.Count(r => r.Failed), rollup.Counters.Failures);
            Assert.Equal(group.Sum(r => r.Tokens.Input), rollup.Counters.InputTokens);
            Assert.Equal(group.Sum(r => r.Tokens.Total), rollup.Counters.TotalTokens);
            Assert.Equal(group.Sum(r => r.LatencyMs), rollup.Counters.LatencyMs);
        }
        Assert.Equal(batch.Count, rollups.Sum(r => r.Counters.Requests));
    }

    [Fact]
    public async Task A_schema_1_database_is_migrated_in_place_and_keeps_its_rows_and_sums()
    {
        var path = Path.Combine(UsageTestKit.TempDir(), "usage.db");
        var a = UsageTestKit.Record(T0, failed: true);
        var b = UsageTestKit.Record(T0.AddMinutes(1), model: "n", input: 1);
        WriteSchema1(path, a, b);

        using (var store = SqliteUsageStore.Open(path))
        {
            var all = new List<UsageRecord>();
            await foreach (var r in store.ReadAllAsync(default)) all.Add(r);
            Assert.Equal([a, b], all);
            var rollups = new List<UsageRollup>();
            await foreach (var r in store.ReadRollupsAsync(default)) rollups.Add(r);
            Assert.Equal(2, rollups.Sum(r => r.Counters.Requests));
            Assert.Equal(1, rollups.Single(r => r.Dimensions.Model == "m").Counters.Failures);

            Assert.Empty(await store.ImportAsync([a, b], default)); // rows written by schema 1 still de-duplicate
            var c = UsageTestKit.Record(T0.AddMinutes(2));
            await store.AppendAsync([c], default);
            Assert.Equal(3, await CountAsync(store));
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Assert.Equal(2L, Query(connection, "PRAGMA user_version;"));
        Assert.Equal(0L, Query(connection, "SELECT count(*) FROM pragma_table_info('requests') WHERE name = 'dedup';"));
        Assert.Equal(0L, Query(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'requests_dedup';"));
        Assert.Equal(1L, Query(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'requests_export';"));
        Assert.Equal("ok", Query(connection, "PRAGMA integrity_check;"));
    }

    [Fact]
    public void A_database_of_a_newer_schema_is_refused()
    {
        var path = Path.Combine(UsageTestKit.TempDir(), "usage.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Query(connection, "PRAGMA user_version = 3;");
        }

        Assert.Throws<IOException>(() => SqliteUsageStore.Open(path));
    }

    private static async Task<int> CountAsync(SqliteUsageStore store) => (await store.ReadRecentAsync(int.MaxValue, default)).Count;

    private static object? Query(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>A database as PluginProxy's schema 1 wrote it (its DDL and its hashed de-duplication key).</summary>
    private static void WriteSchema1(string path, params UsageRecord[] records)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var ddl = connection.CreateCommand();
        ddl.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE requests (
              id INTEGER PRIMARY KEY,
              ts INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              failed INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
              dedup TEXT NOT NULL);
            CREATE INDEX requests_ts ON requests(ts);
            CREATE INDEX requests_dedup ON requests(dedup);
            CREATE INDEX requests_export ON requests(client_key, model, ts);
            CREATE TABLE hourly (
              hour INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              requests INTEGER NOT NULL, failures INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
              PRIMARY KEY (hour, client_key, provider, credential_id, credential, model));
            PRAGMA user_version = 1;
            """;
        ddl.ExecuteNonQuery();
        foreach (var r in records)
        {
            using var command = connection.CreateCommand();
            var d = r.Dimensions;
            var t = r.Tokens;
            var dedup = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                $"{d.ClientKey}|{d.Model}|{r.Timestamp.UtcTicks}|{d.Credential}|{d.CredentialId}|{r.Failed}|{t.Input}|{t.Output}|{t.Reasoning}|{t.Cached}|{t.Total}")), 0, 16);
            command.CommandText = """
                INSERT INTO requests (ts, client_key, provider, credential_id, credential, model, failed, latency_ms, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens, dedup)
                VALUES ($ts, $k, $p, $cid, $c, $m, $f, $l, $i, $o, $r, $ca, $t, $d);
                INSERT INTO hourly VALUES ($h, $k, $p, $cid, $c, $m, 1, $f, $l, $i, $o, $r, $ca, $t);
                """;
            command.Parameters.AddWithValue("$ts", r.Timestamp.UtcTicks);
            command.Parameters.AddWithValue("$h", UsageAggregator.HourOf(r.Timestamp).Ticks);
            command.Parameters.AddWithValue("$k", d.ClientKey);
            command.Parameters.AddWithValue("$p", d.Provider);
            command.Parameters.AddWithValue("$cid", d.CredentialId);
            command.Parameters.AddWithValue("$c", d.Credential);
            command.Parameters.AddWithValue("$m", d.Model);
            command.Parameters.AddWithValue("$f", r.Failed ? 1 : 0);
            command.Parameters.AddWithValue("$l", r.LatencyMs);
            command.Parameters.AddWithValue("$i", t.Input);
            command.Parameters.AddWithValue("$o", t.Output);
            command.Parameters.AddWithValue("$r", t.Reasoning);
            command.Parameters.AddWithValue("$ca", t.Cached);
            command.Parameters.AddWithValue("$t", t.Total);
            command.Parameters.AddWithValue("$d", dedup);
            command.ExecuteNonQuery();
        }
    }
}
