using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Tests.Host.UsageStatistics;

public sealed class UsageRecorderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 2, 7, 22, 30, 0, TimeSpan.Zero);

    private static IEnumerable<UsageRecord> Mix() =>
    [
        UsageTestKit.Record(T0, key: "key-aaaaaaaa", model: "gpt", credential: "c1"),
        UsageTestKit.Record(T0.AddMinutes(5), key: "key-aaaaaaaa", model: "gpt", credential: "c2", failed: true, input: 0, output: 0, reasoning: 0, cached: 0),
        UsageTestKit.Record(T0.AddHours(2), key: "key-bbbbbbbb", model: "claude", provider: "q", credential: "c3", input: 100, output: 50, reasoning: 20, cached: 80),
        UsageTestKit.Record(T0.AddDays(1), key: "POST /v1/chat/completions", model: "gpt", credential: "c1", input: 7, output: 3),
    ];

    [Fact]
    public void The_snapshot_has_cliproxyapis_shape_and_exact_figures()
    {
        using var recorder = UsageTestKit.Recorder(UsageTestKit.TempDir());
        foreach (var r in Mix()) recorder.Enqueue(r);

        var json = UsageTestKit.Snapshot(recorder);
        var usage = json["usage"]!;

        Assert.Equal(4, (long)usage["total_requests"]!);
        Assert.Equal(3, (long)usage["success_count"]!);
        Assert.Equal(1, (long)usage["failure_count"]!);
        Assert.Equal(1, (long)json["failed_requests"]!);
        Assert.Equal(15 + 0 + 150 + 10, (long)usage["total_tokens"]!);
        Assert.Equal(2, (long)usage["apis"]!["key-aaaaaaaa"]!["total_requests"]!);
        Assert.Equal(2, usage["apis"]!["key-aaaaaaaa"]!["models"]!["gpt"]!["details"]!.AsArray().Count);
        var detail = usage["apis"]!["key-bbbbbbbb"]!["models"]!["claude"]!["details"]![0]!;
        Assert.Equal("c3", (string?)detail["auth_index"]);
        Assert.Equal("c3@example.com", (string?)detail["source"]);
        Assert.Equal(80, (long)detail["tokens"]!["cached_tokens"]!);
        Assert.Equal(20, (long)detail["tokens"]!["reasoning_tokens"]!);
        Assert.Equal(2, (long)usage["requests_by_day"]!["2026-02-07"]!);
        Assert.Equal(2, (long)usage["requests_by_day"]!["2026-02-08"]!);
        Assert.Equal(150 + 10, (long)usage["tokens_by_day"]!["2026-02-08"]!);
        Assert.Equal(3, (long)usage["requests_by_hour"]!["22"]!); // hours of the day, over all days (UTC)
        Assert.Equal(1, (long)usage["requests_by_hour"]!["00"]!);

        var breakdown = json["breakdown"]!;
        Assert.Equal(3 + 0 + 80 + 3, (long)breakdown["total"]!["cached_tokens"]!);
        Assert.Equal(3, (long)breakdown["by_provider"]!["p"]!["requests"]!);
        Assert.Equal(1, (long)breakdown["by_credential"]!["c2"]!["failure_count"]!);
        Assert.Equal(3, (long)breakdown["by_model"]!["gpt"]!["requests"]!);
        Assert.Equal(4, breakdown["hours"]!.AsArray().Count); // (hour, key, credential, provider, model) cells
        Assert.Equal(2, breakdown["hours"]!.AsArray().Count(h => (string?)h!["hour"] == "2026-02-07T22:00:00Z"));
        Assert.Equal(4, breakdown["days"]!.AsArray().Sum(d => (long)d!["requests"]!));
    }

    [Fact]
    public async Task Export_then_import_into_an_empty_store_reproduces_the_figures_and_a_second_import_adds_nothing()
    {
        using var source = UsageTestKit.Recorder(UsageTestKit.TempDir());
        foreach (var r in Mix()) source.Enqueue(r);
        using var exported = new MemoryStream();
        await source.WriteExportAsync(exported, default);
        var export = JsonNode.Parse(exported.ToArray())!;
        Assert.Equal(1, (int)export["version"]!);
        Assert.Equal(4, (long)export["usage"]!["total_requests"]!);

        using var target = UsageTestKit.Recorder(UsageTestKit.TempDir());
        using var document = JsonDocument.Parse(exported.ToArray());
        var records = UsageJson.ReadImport(document.RootElement, DateTimeOffset.UtcNow);
        Assert.Equal((4, 0), await target.ImportAsync(records, default));
        Assert.Equal((0, 4), await target.ImportAsync(records, default));

        Assert.True(JsonNode.DeepEquals(UsageTestKit.Snapshot(source)["usage"], UsageTestKit.Snapshot(target)["usage"]),
            $"{UsageTestKit.Snapshot(source)["usage"]}\n!=\n{UsageTestKit.Snapshot(target)["usage"]}");
        Assert.True(JsonNode.DeepEquals(UsageTestKit.Snapshot(source)["breakdown"], UsageTestKit.Snapshot(target)["breakdown"]));
    }

    [Fact]
    public void A_cliproxyapi_export_is_read_with_its_rules_and_raw_keys_become_labels()
    {
        const string body = """
            {"version":1,"exported_at":"2026-02-07T10:00:00+08:00","usage":{"total_requests":99,"apis":{
              "sk-raw-client-key":{"models":{"gemini-2.5-pro":{"details":[
                {"timestamp":"2026-02-07T09:59:58.123456789+08:00","latency_ms":1200,"source":"me@example.com","auth_index":"3","failed":false,
                 "tokens":{"input_tokens":10,"output_tokens":4,"reasoning_tokens":2,"cached_tokens":1,"total_tokens":0}}]}}},
              "POST /v1/chat/completions":{"models":{"":{"details":[{"timestamp":"2026-02-07T01:00:00Z","failed":true}]}}},
              "":{"models":{"x":{"details":[{"timestamp":"2026-02-07T01:00:00Z"}]}}}}}}
            """;
        using var document = JsonDocument.Parse(body);

        var records = UsageJson.ReadImport(document.RootElement, DateTimeOffset.UtcNow);

        Assert.Equal(2, records.Count); // the empty key is skipped; totals are not trusted, details are counted
        var first = records[0];
        Assert.Equal(ClientKeyLabel.Of("sk-raw-client-key"), first.Dimensions.ClientKey);
        Assert.Equal(new DateTimeOffset(2026, 2, 7, 1, 59, 58, TimeSpan.Zero).AddTicks(1234568), first.Timestamp); // nanoseconds round to .NET ticks
        Assert.Equal(16, first.Tokens.Total); // input + output + reasoning when the total is missing
        Assert.Equal(("3", "me@example.com", 1200L), (first.Dimensions.CredentialId, first.Dimensions.Credential, first.LatencyMs));
        Assert.Equal(("POST /v1/chat/completions", "unknown", true), (records[1].Dimensions.ClientKey, records[1].Dimensions.Model, records[1].Failed));
    }

    [Theory]
    [InlineData("""{"version":2,"usage":{}}""", "unsupported version")]
    [InlineData("""[1]""", "invalid json")]
    [InlineData("""{"usage":{"apis":{"k":{"models":{"m":{"details":[{"timestamp":"yesterday"}]}}}}}}""", "invalid json: timestamp 'yesterday' is not RFC 3339")]
    public void Bad_imports_are_refused_with_a_message(string body, string message)
    {
        using var document = JsonDocument.Parse(body);
        Assert.Equal(message, Assert.Throws<FormatException>(() => UsageJson.ReadImport(document.RootElement, DateTimeOffset.UtcNow)).Message);
    }

    [Fact]
    public async Task Many_distinct_keys_models_and_credentials_stay_within_the_limits_while_totals_stay_exact()
    {
        var limits = new UsageLimits { MaxEntries = 10, MaxCells = 50, MaxDays = 5, RecentDetails = 20 };
        using var recorder = UsageTestKit.Recorder(UsageTestKit.TempDir(), limits);
        // Bound: five breakdowns of MaxEntries (+ one "(other)" each, + one per key for key x model), the days, two cell maps
        // (+ one overflow cell per hour or day in the window), the recent details.
        var bound = 5 * (limits.MaxEntries + 1) + limits.MaxEntries + limits.MaxDays + 2 * limits.MaxCells + limits.HoursKept + limits.DaysKept + limits.RecentDetails;

        const int n = 3000;
        for (var i = 0; i < n; i++)
            recorder.Enqueue(UsageTestKit.Record(T0.AddMinutes(i * 7), key: $"key-{i:x8}", model: $"model-{i}", provider: $"p{i % 13}", credential: $"c{i}"));

        Assert.InRange(recorder.AggregatorEntries(), 1, bound);
        var usage = UsageTestKit.Snapshot(recorder)["usage"]!;
        Assert.Equal(n, (long)usage["total_requests"]!);
        Assert.Equal(n - limits.MaxEntries, (long)usage["apis"]!["(other)"]!["total_requests"]!);
        Assert.Equal(n * 15L, (long)usage["total_tokens"]!);

        // Everything is still in the database: the export has every request.
        await recorder.FlushAsync();
        using var exported = new MemoryStream();
        await recorder.WriteExportAsync(exported, default);
        Assert.Equal(n, (long)JsonNode.Parse(exported.ToArray())!["usage"]!["total_requests"]!);
    }

    [Fact]
    public void A_stalled_writer_drops_records_beyond_the_queue_bound_and_counts_them()
    {
        using var recorder = UsageTestKit.Recorder(UsageTestKit.TempDir(), start: false);
        for (var i = 0; i < UsageRecorder.MaxQueued + 5; i++) recorder.Enqueue(UsageTestKit.Record(T0));

        Assert.Equal(5, recorder.Dropped);
        Assert.Equal(UsageRecorder.MaxQueued, recorder.Totals().Requests);
    }

    [Fact]
    public async Task The_unsaved_backlog_keeps_the_queue_bound_until_a_flush_writes_it()
    {
        using var recorder = UsageTestKit.Recorder(UsageTestKit.TempDir(), start: false);
        for (var i = 0; i < UsageRecorder.MaxQueued; i++) recorder.Enqueue(UsageTestKit.Record(T0));
        Assert.Equal(UsageRecorder.MaxQueued, recorder.Totals().Requests); // drained into the unsaved backlog

        for (var i = 0; i < 10; i++) recorder.Enqueue(UsageTestKit.Record(T0));
        Assert.Equal(UsageRecorder.MaxQueued, recorder.Totals().Requests); // the backlog is full: they wait in the queue
        Assert.Equal(10, recorder.Queued);

        await recorder.FlushAsync();
        Assert.Equal(UsageRecorder.MaxQueued + 10, recorder.Totals().Requests);
        Assert.Equal(0, recorder.Dropped);
    }

    [Fact]
    public async Task The_queue_is_drained_between_flushes_without_writing()
    {
        var dir = UsageTestKit.TempDir();
        using var recorder = UsageTestKit.Recorder(dir, yaml: "usage-statistics-flush-seconds: 3600");
        for (var i = 0; i < 10; i++) recorder.Enqueue(UsageTestKit.Record(T0));

        // Drained by the background loop within a fraction of a second, long before the hour's flush.
        for (var wait = 0; wait < 100 && recorder.Queued > 0; wait++) await Task.Delay(100);

        Assert.Equal(0, recorder.Queued);
        Assert.False(File.Exists(Path.Combine(dir, "usage.db")));
    }

    [Fact]
    public void Nothing_is_created_on_disk_until_something_is_recorded()
    {
        var dir = UsageTestKit.TempDir();
        using (var recorder = UsageTestKit.Recorder(dir))
            Assert.Equal(0, recorder.Totals().Requests);
        Assert.False(File.Exists(Path.Combine(dir, "usage.db")));
    }

    [Fact]
    public void Client_key_labels_are_stable_short_and_do_not_contain_the_key()
    {
        var label = ClientKeyLabel.Of("sk-secret-123");
        Assert.Equal(label, ClientKeyLabel.Of("sk-secret-123"));
        Assert.NotEqual(label, ClientKeyLabel.Of("sk-secret-124"));
        Assert.Matches("^key-[0-9a-f]{8}$", label);
        Assert.Equal(label, ClientKeyLabel.FromImported(label)); // our own exports keep their labels
    }
}
