using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
using PluginProxy.Host.Proxying;
using PluginProxy.Host.Security;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Bench.UsageStatistics;

/// <summary>
/// <see cref="Records"/> requests through usage statistics: recorded on the request path, then flushed to a fresh
/// SQLite file (both into the in-memory aggregator too). <c>PerRow</c> (baseline) reproduces the strategy before
/// issue 16: a SHA-256 key label per request, and per stored row a SHA-256 de-duplication key, a request insert and an
/// hourly upsert with every parameter bound by name, in one transaction (schema 1, with its dedup index).
/// <c>Recorder</c> is <see cref="UsageRecorder"/> as shipped. Divide Allocated by <see cref="Records"/> for per record.
/// </summary>
[MemoryDiagnoser]
public class UsageStoreBench
{
    private const string Key = "sk-bench-client-key-0001";
    private readonly HttpContext[] _http = new HttpContext[2];
    private readonly RequestTrace[] _traces = new RequestTrace[4];
    private string _dir = "";
    private ConfigStore _config = null!;
    private UsageRecorder _recorder = null!;
    private string _oldPath = "";

    [Params(10_000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < _http.Length; i++)
        {
            var http = new DefaultHttpContext();
            http.Request.Method = "POST";
            http.Request.Path = "/v1/chat/completions";
            http.Features.Set(new ClientKeyFeature(Key + i));
            _http[i] = http;
        }
        for (var i = 0; i < _traces.Length; i++)
            _traces[i] = new RequestTrace("r") { Model = i % 2 == 0 ? "gpt-4o" : "claude-sonnet-4", Provider = "p", CredentialId = $"cred-{i}", Credential = $"acct{i}@example.com",
                Usage = new Usage { InputTokens = 120 + i, OutputTokens = 40, CachedInputTokens = 64, ReasoningTokens = 8 } };
    }

    [IterationSetup]
    public void FreshDatabases()
    {
        Cleanup();
        _dir = Directory.CreateTempSubdirectory("pluginproxy-usage-bench-").FullName;
        var configPath = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(configPath, "");
        _config = new ConfigStore(ConfigLoader.LoadFile(configPath));
        _recorder = new UsageRecorder(_config, TimeProvider.System, NullLogger<UsageRecorder>.Instance);
        _recorder.Record(_http[0], _traces[0], 200, 1);
        _recorder.FlushAsync().GetAwaiter().GetResult(); // creates the file: opening is not measured
        _oldPath = Path.Combine(_dir, "old.db");
        using var connection = Connect(_oldPath);
        Execute(connection, OldSchema);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recorder?.Dispose();
        SqliteConnection.ClearAllPools();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public long PerRow()
    {
        // The request path then: a label hash per request, the model parsed, one enqueue.
        var queue = new ConcurrentQueue<UsageRecord>();
        for (var i = 0; i < Records; i++)
        {
            var http = _http[i & 1];
            var trace = _traces[i & 3];
            var label = OldLabel(http.Features.Get<ClientKeyFeature>()!.Key);
            var dimensions = new UsageDimensions(label, trace.Provider!, trace.CredentialId!, trace.Credential!, ModelName.Parse(trace.Model!).Base);
            queue.Enqueue(new UsageRecord(TimeProvider.System.GetUtcNow().AddMilliseconds(-40), dimensions, false, 40, UsageTokens.From(trace.Usage)));
        }
        // The flush then: drained into the aggregator, one transaction, two named-bind statements and a SHA per row.
        var aggregator = new UsageAggregator(new UsageLimits());
        var batch = new List<UsageRecord>();
        while (queue.TryDequeue(out var record))
        {
            aggregator.Add(record);
            batch.Add(record);
        }
        using var connection = Connect(_oldPath);
        using var transaction = connection.BeginTransaction();
        var writer = new OldWriter(connection, transaction);
        foreach (var record in batch) writer.Insert(record, OldDedupKey(record));
        transaction.Commit();
        return aggregator.Total.Requests;
    }

    [Benchmark]
    public long Recorder()
    {
        for (var i = 0; i < Records; i++) _recorder.Record(_http[i & 1], _traces[i & 3], 200, 40);
        _recorder.FlushAsync().GetAwaiter().GetResult();
        return _recorder.Dropped;
    }

    private static string OldLabel(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("pluginproxy-usage\0" + key), hash);
        return "key-" + Convert.ToHexStringLower(hash[..4]);
    }

    private static string OldDedupKey(in UsageRecord r)
    {
        var d = r.Dimensions;
        var t = r.Tokens;
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{d.ClientKey}|{d.Model}|{r.Timestamp.UtcTicks}|{d.Credential}|{d.CredentialId}|{r.Failed}|{t.Input}|{t.Output}|{t.Reasoning}|{t.Cached}|{t.Total}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 16);
    }

    private static SqliteConnection Connect(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private const string OldSchema = """
        CREATE TABLE IF NOT EXISTS requests (
          id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,
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
        """;

    /// <summary>The schema 1 writer: both statements per row, 27 parameters set by name.</summary>
    private sealed class OldWriter
    {
        private readonly SqliteCommand _request;
        private readonly SqliteCommand _hourly;

        public OldWriter(SqliteConnection connection, SqliteTransaction transaction)
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
