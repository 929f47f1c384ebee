using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// The usage database: one SQLite file in WAL mode (readers, such as an export, never block the writer), written in
/// one transaction per <see cref="AppendAsync"/> call, so a killed process loses nothing that was committed. Two
/// tables: <c>requests</c> (one row per request, the export) and <c>hourly</c> (sums kept in the same transaction, what
/// startup reads; one upsert per distinct hour and dimensions of a call, not one per request).
/// </summary>
/// <remarks>
/// Schema 2 has no <c>dedup</c> column: the import's de-duplication looks candidates up through the export index
/// (client key, model, time) and compares the rest of CLIProxyAPI's key in the query. A schema 1 file is migrated in
/// place when opened.
/// </remarks>
internal sealed class SqliteUsageStore : IUsageStore
{
    internal const int SchemaVersion = 2;
    private readonly string _connectionString;

    private SqliteUsageStore(string connectionString) => _connectionString = connectionString;

    public string Path { get; private init; } = "";

    /// <summary>Opens (creating or migrating when needed) the database at <paramref name="path"/>. Throws <see cref="SqliteException"/> or <see cref="IOException"/>.</summary>
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
        // The version is read inside the (immediate) transaction: a second process opening the same v1 file waits for
        // the first one's migration and then sees version 2, instead of migrating twice.
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;", transaction));
        if (version > SchemaVersion)
            throw new IOException($"the usage database {path} was written by a newer PluginProxy (schema {version})");
        if (version == 1)
        {
            // Schema 1 kept a hashed de-duplication key per row; the lookup now goes through requests_export.
            Execute(connection, "DROP INDEX IF EXISTS requests_dedup; ALTER TABLE requests DROP COLUMN dedup;", transaction);
        }
        Execute(connection, $"""
            CREATE TABLE IF NOT EXISTS requests (
              id INTEGER PRIMARY KEY,
              ts INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              failed INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts);
            CREATE INDEX IF NOT EXISTS requests_export ON requests(client_key, model, ts);
            CREATE TABLE IF NOT EXISTS hourly (
              hour INTEGER NOT NULL,
              client_key TEXT NOT NULL, provider TEXT NOT NULL, credential_id TEXT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL,
              requests INTEGER NOT NULL, failures INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
              PRIMARY KEY (hour, client_key, provider, credential_id, credential, model));
            PRAGMA user_version = {SchemaVersion};
            """, transaction);
        transaction.Commit();
        return store;
    }

    public Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return Task.CompletedTask;
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        using var writer = new Writer(connection, transaction);
        for (var i = 0; i < records.Count; i++) writer.Insert(records[i]);
        writer.WriteHours();
        transaction.Commit();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<UsageRecord>> ImportAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        var added = new List<UsageRecord>();
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        using var exists = new Lookup(connection, transaction);
        var seen = new HashSet<UsageDedupKey>();
        using var writer = new Writer(connection, transaction);
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = record.DedupKey();
            if (!seen.Add(key) || exists.Contains(key)) continue;
            writer.Insert(record);
            added.Add(record);
        }
        writer.WriteHours();
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

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>
    /// Prepared inserts of one transaction: a row per request, and the hours' sums gathered in memory and written once
    /// per distinct hour and dimensions by <see cref="WriteHours"/>. The row insert, run for every request, goes through
    /// SQLitePCL's statement API on the connection's handle (the connection's transaction applies): Microsoft.Data.Sqlite
    /// allocates a reader, a binder per parameter and a box per number on every execution.
    /// </summary>
    private sealed class Writer : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _request;
        private readonly SqliteCommand _hourly;
        private readonly SqliteParameter[] _hourlyValues;
        private readonly Dictionary<(long Hour, UsageDimensions Dimensions), UsageCounters> _hours = [];

        public Writer(SqliteConnection connection, SqliteTransaction transaction)
        {
            _db = connection.Handle!;
            Check(raw.sqlite3_prepare_v2(_db, """
                INSERT INTO requests (ts, client_key, provider, credential_id, credential, model, failed, latency_ms,
                  input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                """, out _request));
            (_hourly, _hourlyValues) = Prepare(connection, transaction, """
                INSERT INTO hourly (hour, client_key, provider, credential_id, credential, model, requests, failures, latency_ms,
                  input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (hour, client_key, provider, credential_id, credential, model) DO UPDATE SET
                  requests = requests + excluded.requests, failures = failures + excluded.failures, latency_ms = latency_ms + excluded.latency_ms,
                  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
                  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cached_tokens = cached_tokens + excluded.cached_tokens,
                  total_tokens = total_tokens + excluded.total_tokens
                """, 14);
        }

        public void Insert(in UsageRecord record)
        {
            var s = _request;
            var d = record.Dimensions;
            var t = record.Tokens;
            Check(raw.sqlite3_bind_int64(s, 1, record.Timestamp.UtcTicks));
            Check(raw.sqlite3_bind_text16(s, 2, d.ClientKey));
            Check(raw.sqlite3_bind_text16(s, 3, d.Provider));
            Check(raw.sqlite3_bind_text16(s, 4, d.CredentialId));
            Check(raw.sqlite3_bind_text16(s, 5, d.Credential));
            Check(raw.sqlite3_bind_text16(s, 6, d.Model));
            Check(raw.sqlite3_bind_int64(s, 7, record.Failed ? 1 : 0));
            Check(raw.sqlite3_bind_int64(s, 8, record.LatencyMs));
            Check(raw.sqlite3_bind_int64(s, 9, t.Input));
            Check(raw.sqlite3_bind_int64(s, 10, t.Output));
            Check(raw.sqlite3_bind_int64(s, 11, t.Reasoning));
            Check(raw.sqlite3_bind_int64(s, 12, t.Cached));
            Check(raw.sqlite3_bind_int64(s, 13, t.Total));
            var rc = raw.sqlite3_step(s);
            raw.sqlite3_reset(s);
            if (rc != raw.SQLITE_DONE) Check(rc);
            CollectionsMarshal.GetValueRefOrAddDefault(_hours, (UsageAggregator.HourOf(record.Timestamp).Ticks, d), out _).Add(UsageCounters.Of(record));
        }

        public void Dispose()
        {
            _request.Dispose();
            _hourly.Dispose();
        }

        private void Check(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);

        /// <summary>Adds the sums gathered since the last call to the <c>hourly</c> table.</summary>
        public void WriteHours()
        {
            var p = _hourlyValues;
            foreach (var ((hour, d), c) in _hours)
            {
                p[0].Value = hour;
                p[1].Value = d.ClientKey;
                p[2].Value = d.Provider;
                p[3].Value = d.CredentialId;
                p[4].Value = d.Credential;
                p[5].Value = d.Model;
                p[6].Value = c.Requests;
                p[7].Value = c.Failures;
                p[8].Value = c.LatencyMs;
                p[9].Value = c.InputTokens;
                p[10].Value = c.OutputTokens;
                p[11].Value = c.ReasoningTokens;
                p[12].Value = c.CachedTokens;
                p[13].Value = c.TotalTokens;
                _hourly.ExecuteNonQuery();
            }
            _hours.Clear();
        }
    }

    /// <summary>Whether a request with the same de-duplication key is stored: the (client key, model, time) or time index finds the candidates.</summary>
    private sealed class Lookup : IDisposable
    {
        private readonly SqliteCommand _command;
        private readonly SqliteParameter[] _values;

        public Lookup(SqliteConnection connection, SqliteTransaction transaction) =>
            (_command, _values) = Prepare(connection, transaction, """
                SELECT 1 FROM requests
                WHERE client_key = $1 AND model = $2 AND ts = $3 AND credential = $4 AND credential_id = $5 AND failed = $6
                  AND input_tokens = $7 AND output_tokens = $8 AND reasoning_tokens = $9 AND cached_tokens = $10 AND total_tokens = $11
                LIMIT 1
                """, 11);

        public bool Contains(in UsageDedupKey key)
        {
            var p = _values;
            p[0].Value = key.ClientKey;
            p[1].Value = key.Model;
            p[2].Value = key.UtcTicks;
            p[3].Value = key.Credential;
            p[4].Value = key.CredentialId;
            p[5].Value = key.Failed ? 1L : 0L;
            p[6].Value = key.Tokens.Input;
            p[7].Value = key.Tokens.Output;
            p[8].Value = key.Tokens.Reasoning;
            p[9].Value = key.Tokens.Cached;
            p[10].Value = key.Tokens.Total;
            return _command.ExecuteScalar() is not null;
        }

        public void Dispose() => _command.Dispose();
    }

    /// <summary>A command of one transaction with parameters <c>$1</c>..<c>$n</c>, returned in order.</summary>
    private static (SqliteCommand, SqliteParameter[]) Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, int count)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        var values = new SqliteParameter[count];
        for (var i = 0; i < count; i++)
            values[i] = command.Parameters.Add(new SqliteParameter { ParameterName = "$" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }); // typed by each value

        return (command, values);
    }
}
