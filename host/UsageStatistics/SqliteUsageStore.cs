using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// The usage database: one SQLite file in WAL mode (readers, such as an export, never block the writer), written in
/// one transaction per flush, so a killed process loses nothing that was committed. Two tables: <c>requests</c> (one
/// row per request, the export) and <c>hourly</c> (sums kept in the same transaction, what startup reads).
/// </summary>
internal sealed class SqliteUsageStore : IUsageStore
{
    private const int SchemaVersion = 1;
    private readonly string _connectionString;

    private SqliteUsageStore(string connectionString) => _connectionString = connectionString;

    public string Path { get; private init; } = "";

    /// <summary>Opens (creating when needed) the database at <paramref name="path"/>. Throws <see cref="SqliteException"/> or <see cref="IOException"/>.</summary>
    public static SqliteUsageStore Open(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var store = new SqliteUsageStore(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString())
        {
            Path = path,
        };
        using var connection = store.Connect();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"));
        if (version > SchemaVersion)
            throw new IOException($"the usage database {path} was written by a newer PluginProxy (schema {version})");
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS requests (
              id INTEGER PRIMARY KEY,
              ts INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              failed INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
              dedup TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts);
            CREATE INDEX IF NOT EXISTS requests_dedup ON requests(dedup);
            CREATE INDEX IF NOT EXISTS requests_export ON requests(client_key, model, ts);
            CREATE TABLE IF NOT EXISTS hourly (
              hour INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              requests INTEGER NOT NULL, failures INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
              PRIMARY KEY (hour, client_key, provider, credential_id, credential, model));
            PRAGMA user_version = 1;
            """);
        return store;
    }

    public Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return Task.CompletedTask;
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        var writer = new Writer(connection, transaction);
        foreach (var record in records) writer.Insert(record, record.DedupKey());
        transaction.Commit();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<UsageRecord>> ImportAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        var added = new List<UsageRecord>();
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = "SELECT 1 FROM requests WHERE dedup = $d LIMIT 1";
        var dedup = exists.Parameters.Add("$d", SqliteType.Text);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var writer = new Writer(connection, transaction);
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = record.DedupKey();
            if (!seen.Add(key)) continue;
            dedup.Value = key;
            if (exists.ExecuteScalar() is not null) continue;
            writer.Insert(record, key);
            added.Add(record);
        }
        transaction.Commit();
        return Task.FromResult<IReadOnlyList<UsageRecord>>(added);
    }

    public async IAsyncEnumerable<UsageRollup> ReadRollupsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT hour, client_key, provider, credential_id, credential, model, requests, failures, latency_ms,
                   input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens
            FROM hourly ORDER BY hour
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new UsageRollup(new DateTime(reader.GetInt64(0), DateTimeKind.Utc),
                new UsageDimensions(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)),
                new UsageCounters
                {
                    Requests = reader.GetInt64(6), Failures = reader.GetInt64(7), LatencyMs = reader.GetInt64(8), InputTokens = reader.GetInt64(9),
                    OutputTokens = reader.GetInt64(10), ReasoningTokens = reader.GetInt64(11), CachedTokens = reader.GetInt64(12), TotalTokens = reader.GetInt64(13),
                });
        }
        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<UsageRecord>> ReadRecentAsync(int count, CancellationToken cancellationToken)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM requests ORDER BY ts DESC, id DESC LIMIT $n";
        command.Parameters.AddWithValue("$n", count);
        using var reader = command.ExecuteReader();
        var records = new List<UsageRecord>();
        while (reader.Read()) records.Add(ReadRecord(reader));
        records.Reverse();
        return Task.FromResult<IReadOnlyList<UsageRecord>>(records);
    }

    public async IAsyncEnumerable<UsageRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One read transaction: in WAL mode the export sees one consistent state while flushes go on.
        using var connection = Connect();
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {Columns} FROM requests ORDER BY client_key, model, ts, id";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ReadRecord(reader);
        }
        await Task.CompletedTask;
    }

    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection); // closes the pooled handles, so the file can be moved or deleted
    }

    private const string Columns =
        "ts, client_key, provider, credential_id, credential, model, failed, latency_ms, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens";

    private static UsageRecord ReadRecord(SqliteDataReader reader) => new(
        new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero),
        new UsageDimensions(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)),
        reader.GetInt64(6) != 0,
        reader.GetInt64(7),
        new UsageTokens(reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11), reader.GetInt64(12)));

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Per connection: NORMAL is durable against a killed process in WAL mode (only a power loss can undo the last commit).
        Execute(connection, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Prepared inserts of one transaction: the request row and its hour's sums.</summary>
    private sealed class Writer
    {
        private readonly SqliteCommand _request;
        private readonly SqliteCommand _hourly;

        public Writer(SqliteConnection connection, SqliteTransaction transaction)
        {
            _request = connection.CreateCommand();
            _request.Transaction = transaction;
            _request.CommandText = """
                INSERT INTO requests (ts, client_key, provider, credential_id, credential, model, failed, latency_ms,
                  input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens, dedup)
                VALUES ($ts, $key, $provider, $cid, $cred, $model, $failed, $latency, $in, $out, $reasoning, $cached, $total, $dedup)
                """;
            _hourly = connection.CreateCommand();
            _hourly.Transaction = transaction;
            _hourly.CommandText = """
                INSERT INTO hourly (hour, client_key, provider, credential_id, credential, model, requests, failures, latency_ms,
                  input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens)
                VALUES ($ts, $key, $provider, $cid, $cred, $model, 1, $failed, $latency, $in, $out, $reasoning, $cached, $total)
                ON CONFLICT (hour, client_key, provider, credential_id, credential, model) DO UPDATE SET
                  requests = requests + 1, failures = failures + excluded.failures, latency_ms = latency_ms + excluded.latency_ms,
                  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
                  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cached_tokens = cached_tokens + excluded.cached_tokens,
                  total_tokens = total_tokens + excluded.total_tokens
                """;
            foreach (var command in (SqliteCommand[])[_request, _hourly])
            {
                foreach (var name in (string[])["$ts", "$failed", "$latency", "$in", "$out", "$reasoning", "$cached", "$total"])
                    command.Parameters.Add(name, SqliteType.Integer);
                foreach (var name in (string[])["$key", "$provider", "$cid", "$cred", "$model"])
                    command.Parameters.Add(name, SqliteType.Text);
            }
            _request.Parameters.Add("$dedup", SqliteType.Text);
        }

        public void Insert(in UsageRecord record, string dedup)
        {
            Bind(_request, record, record.Timestamp.UtcTicks);
            _request.Parameters["$dedup"].Value = dedup;
            _request.ExecuteNonQuery();
            Bind(_hourly, record, UsageAggregator.HourOf(record.Timestamp).Ticks);
            _hourly.ExecuteNonQuery();
        }

        private static void Bind(SqliteCommand command, in UsageRecord record, long ts)
        {
            var p = command.Parameters;
            var d = record.Dimensions;
            var t = record.Tokens;
            p["$ts"].Value = ts;
            p["$key"].Value = d.ClientKey;
            p["$provider"].Value = d.Provider;
            p["$cid"].Value = d.CredentialId;
            p["$cred"].Value = d.Credential;
            p["$model"].Value = d.Model;
            p["$failed"].Value = record.Failed ? 1 : 0;
            p["$latency"].Value = record.LatencyMs;
            p["$in"].Value = t.Input;
            p["$out"].Value = t.Output;
            p["$reasoning"].Value = t.Reasoning;
            p["$cached"].Value = t.Cached;
            p["$total"].Value = t.Total;
        }
    }
}
