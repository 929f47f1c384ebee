using System.Globalization;
using System.Text.Json;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>
/// CLIProxyAPI's usage JSON: the snapshot (<c>total_requests</c>, <c>apis</c> → <c>models</c> → <c>details</c>, the
/// by-day and by-hour maps), its export envelope (<c>version</c> 1, <c>exported_at</c>) and the import body. Details
/// carry CLIProxyAPI's fields (<c>source</c> = credential label, <c>auth_index</c> = credential id) plus <c>provider</c>.
/// </summary>
internal static class UsageJson
{
    public static void WriteTotals(Utf8JsonWriter json, in UsageCounters total)
    {
        json.WriteNumber("total_requests", total.Requests);
        json.WriteNumber("success_count", total.Successes);
        json.WriteNumber("failure_count", total.Failures);
        json.WriteNumber("total_tokens", total.TotalTokens);
    }

    public static void WriteDetail(Utf8JsonWriter json, in UsageRecord record)
    {
        json.WriteStartObject();
        json.WriteString("timestamp", record.Timestamp.UtcDateTime);
        json.WriteNumber("latency_ms", record.LatencyMs);
        json.WriteString("source", record.Dimensions.Credential);
        json.WriteString("auth_index", record.Dimensions.CredentialId);
        json.WriteString("provider", record.Dimensions.Provider);
        json.WritePropertyName("tokens");
        json.WriteStartObject();
        json.WriteNumber("input_tokens", record.Tokens.Input);
        json.WriteNumber("output_tokens", record.Tokens.Output);
        json.WriteNumber("reasoning_tokens", record.Tokens.Reasoning);
        json.WriteNumber("cached_tokens", record.Tokens.Cached);
        json.WriteNumber("total_tokens", record.Tokens.Total);
        json.WriteEndObject();
        json.WriteBoolean("failed", record.Failed);
        json.WriteEndObject();
    }

    /// <summary>
    /// Writes the export: every request in <paramref name="records"/>, which come ordered by client key, model and time
    /// (the database streams them; nothing is held in memory but the per-day and per-hour sums).
    /// </summary>
    public static async Task WriteExportAsync(Utf8JsonWriter json, IAsyncEnumerable<UsageRecord> records, DateTimeOffset exportedAt, Func<Task> flush,
        CancellationToken cancellationToken)
    {
        json.WriteStartObject();
        json.WriteNumber("version", 1);
        json.WriteString("exported_at", exportedAt.UtcDateTime);
        json.WritePropertyName("usage");
        json.WriteStartObject();
        json.WritePropertyName("apis");
        json.WriteStartObject();
        UsageCounters total = default, key = default, model = default;
        var days = new SortedDictionary<DateOnly, UsageCounters>();
        var hours = new UsageCounters[24];
        string? currentKey = null, currentModel = null;
        var written = 0;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            var d = record.Dimensions;
            if (d.ClientKey != currentKey || d.Model != currentModel)
            {
                if (currentModel is not null) EndModel(json, model);
                if (d.ClientKey != currentKey)
                {
                    if (currentKey is not null) EndKey(json, key);
                    currentKey = d.ClientKey;
                    key = default;
                    json.WritePropertyName(currentKey);
                    json.WriteStartObject();
                    json.WritePropertyName("models");
                    json.WriteStartObject();
                }
                currentModel = d.Model;
                model = default;
                json.WritePropertyName(currentModel);
                json.WriteStartObject();
                json.WritePropertyName("details");
                json.WriteStartArray();
            }
            WriteDetail(json, record);
            var counters = UsageCounters.Of(record);
            total.Add(counters);
            key.Add(counters);
            model.Add(counters);
            var hour = UsageAggregator.HourOf(record.Timestamp);
            var day = DateOnly.FromDateTime(hour);
            var perDay = days.GetValueOrDefault(day);
            perDay.Add(counters);
            days[day] = perDay;
            hours[hour.Hour].Add(counters);
            if (++written % 512 == 0) await flush();
        }
        if (currentModel is not null) EndModel(json, model);
        if (currentKey is not null) EndKey(json, key);
        json.WriteEndObject();
        WriteTotals(json, total);
        UsageAggregator.WriteByDayAndHour(json, days.Select(d => (d.Key, d.Value)), hours);
        json.WriteEndObject();
        json.WriteEndObject();

        static void EndModel(Utf8JsonWriter json, in UsageCounters c)
        {
            json.WriteEndArray();
            json.WriteNumber("total_requests", c.Requests);
            json.WriteNumber("total_tokens", c.TotalTokens);
            json.WriteEndObject();
        }

        static void EndKey(Utf8JsonWriter json, in UsageCounters c)
        {
            json.WriteEndObject();
            json.WriteNumber("total_requests", c.Requests);
            json.WriteNumber("total_tokens", c.TotalTokens);
            json.WriteEndObject();
        }
    }

    /// <summary>
    /// Reads an import body (<c>{"version":0|1,"usage":{...}}</c>) into records, as CLIProxyAPI does: only the details
    /// count (totals are recomputed from them), an empty key is skipped, an empty model is "unknown", a missing total is
    /// input + output + reasoning. Raw client keys in the names become labels. Throws <see cref="FormatException"/> with a
    /// message for the client.
    /// </summary>
    public static List<UsageRecord> ReadImport(JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("invalid json");
        var version = root.TryGetProperty("version", out var v) ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : -1 : 0;
        if (version is not (0 or 1)) throw new FormatException("unsupported version");
        var records = new List<UsageRecord>();
        if (!root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object) return records;
        if (!usage.TryGetProperty("apis", out var apis) || apis.ValueKind != JsonValueKind.Object) return records;
        foreach (var api in apis.EnumerateObject())
        {
            var name = api.Name.Trim();
            if (name.Length == 0 || api.Value.ValueKind != JsonValueKind.Object) continue;
            var clientKey = ClientKeyLabel.FromImported(name);
            if (!api.Value.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Object) continue;
            foreach (var model in models.EnumerateObject())
            {
                var modelName = model.Name.Trim();
                if (modelName.Length == 0) modelName = "unknown";
                if (model.Value.ValueKind != JsonValueKind.Object || !model.Value.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Array) continue;
                foreach (var detail in details.EnumerateArray())
                {
                    if (detail.ValueKind != JsonValueKind.Object) throw new FormatException("invalid json: a detail is not an object");
                    records.Add(ReadDetail(detail, clientKey, modelName, now));
                }
            }
        }
        return records;
    }

    private static UsageRecord ReadDetail(JsonElement detail, string clientKey, string model, DateTimeOffset now)
    {
        var timestamp = String(detail, "timestamp") is { Length: > 0 } text
            ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed.ToUniversalTime()
                : throw new FormatException($"invalid json: timestamp '{text}' is not RFC 3339")
            : now;
        var tokens = detail.TryGetProperty("tokens", out var t) && t.ValueKind == JsonValueKind.Object
            ? new UsageTokens(Number(t, "input_tokens"), Number(t, "output_tokens"), Number(t, "reasoning_tokens"), Number(t, "cached_tokens"), Number(t, "total_tokens")).Normalised()
            : default;
        var failed = detail.TryGetProperty("failed", out var f) && f.ValueKind == JsonValueKind.True;
        var dimensions = new UsageDimensions(clientKey, String(detail, "provider") ?? "", String(detail, "auth_index") ?? "", String(detail, "source") ?? "", model);
        return new UsageRecord(timestamp, dimensions, failed, Math.Max(0, Number(detail, "latency_ms")), tokens);
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(), // older exports wrote auth_index as a number
            _ => null,
        } : null;

    private static long Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? Math.Max(0, n) : 0;
}
