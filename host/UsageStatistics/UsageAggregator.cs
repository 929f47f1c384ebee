using System.Runtime.InteropServices;
using System.Text.Json;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>How much the in-memory view keeps; the database keeps everything.</summary>
internal sealed record UsageLimits
{
    /// <summary>Distinct entries per breakdown (client keys, key x model pairs, credentials, providers, models); more fold into "(other)".</summary>
    public int MaxEntries { get; init; } = 1000;
    /// <summary>Cells (hour x key x credential x provider x model) kept for the hourly and the daily view each.</summary>
    public int MaxCells { get; init; } = 10_000;
    public int HoursKept { get; init; } = 48;
    public int DaysKept { get; init; } = 31;
    /// <summary>Entries of requests_by_day / tokens_by_day.</summary>
    public int MaxDays { get; init; } = 400;
    /// <summary>Request details (CLIProxyAPI's <c>details</c>) shown by <c>GET /usage</c>; the export has them all.</summary>
    public int RecentDetails { get; init; } = 1000;
}

/// <summary>
/// The in-memory statistics: exact totals, breakdowns per client key, key and model, credential, provider and model,
/// per day and per hour of day, hour and day cells over a recent window, and the most recent requests. Every
/// collection is capped (<see cref="UsageLimits"/>), so memory stays bounded whatever clients send. Not thread-safe:
/// <see cref="UsageRecorder"/> serialises access.
/// </summary>
internal sealed class UsageAggregator(UsageLimits limits)
{
    public const string Other = "(other)";

    private readonly record struct Cell(DateTime Start, UsageDimensions Dimensions);

    private sealed class CredentialEntry(string label, string provider)
    {
        public string Label = label;
        public string Provider = provider;
        public UsageCounters Counters;
    }

    private UsageCounters _total;
    private readonly Dictionary<string, UsageCounters> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string Model), UsageCounters> _byKeyModel = [];
    private readonly Dictionary<string, CredentialEntry> _byCredential = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageCounters> _byProvider = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageCounters> _byModel = new(StringComparer.Ordinal);
    private readonly SortedDictionary<DateOnly, UsageCounters> _byDay = [];
    private readonly UsageCounters[] _byHourOfDay = new UsageCounters[24];
    private readonly Dictionary<Cell, UsageCounters> _hours = [];
    private readonly Dictionary<Cell, UsageCounters> _days = [];
    private readonly Queue<UsageRecord> _recent = new();
    private DateTime _newestHour = DateTime.MinValue;
    private DateTime _newestDay = DateTime.MinValue;

    public UsageLimits Limits => limits;
    public UsageCounters Total => _total;
    /// <summary>Entries held, all collections together (for the bounded-memory test).</summary>
    public int EntryCount => _byKey.Count + _byKeyModel.Count + _byCredential.Count + _byProvider.Count + _byModel.Count + _byDay.Count + _hours.Count + _days.Count + _recent.Count;

    public static DateTime HourOf(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerHour, DateTimeKind.Utc);

    public void Add(in UsageRecord record)
    {
        AddCounters(HourOf(record.Timestamp), record.Dimensions, UsageCounters.Of(record));
        AddRecent(record);
    }

    public void AddRecent(in UsageRecord record)
    {
        _recent.Enqueue(record);
        while (_recent.Count > limits.RecentDetails) _recent.Dequeue();
    }

    /// <summary>Adds the counters of one hour of one dimension combination (a live request, or a rollup loaded at startup).</summary>
    public void AddCounters(DateTime hour, UsageDimensions d, in UsageCounters c)
    {
        _total.Add(c);
        var key = Bounded(_byKey, d.ClientKey, Other);
        Slot(_byKey, key).Add(c);
        var pair = (key, d.Model);
        if (!_byKeyModel.ContainsKey(pair) && _byKeyModel.Count >= limits.MaxEntries) pair = (key, Other);
        Slot(_byKeyModel, pair).Add(c);
        Slot(_byProvider, Bounded(_byProvider, d.Provider, Other)).Add(c);
        Slot(_byModel, Bounded(_byModel, d.Model, Other)).Add(c);
        var credentialId = Bounded(_byCredential, d.CredentialId, Other);
        if (!_byCredential.TryGetValue(credentialId, out var credential))
            _byCredential[credentialId] = credential = credentialId == Other ? new CredentialEntry(Other, Other) : new CredentialEntry(d.Credential, d.Provider);
        else if (credentialId != Other) credential.Label = d.Credential; // the newest label (an account's e-mail may change)
        credential.Counters.Add(c);

        var day = DateOnly.FromDateTime(hour);
        var perDay = _byDay.GetValueOrDefault(day); // SortedDictionary has no by-reference access; at most MaxDays entries
        perDay.Add(c);
        _byDay[day] = perDay;
        while (_byDay.Count > limits.MaxDays) _byDay.Remove(_byDay.Keys.First());
        _byHourOfDay[hour.Hour].Add(c);

        AddCell(_hours, hour, d, c, ref _newestHour, TimeSpan.FromHours(limits.HoursKept));
        AddCell(_days, hour.Date, d, c, ref _newestDay, TimeSpan.FromDays(limits.DaysKept));
    }

    private void AddCell(Dictionary<Cell, UsageCounters> cells, DateTime start, UsageDimensions d, in UsageCounters c, ref DateTime newest, TimeSpan window)
    {
        if (start > newest)
        {
            newest = start;
            var oldest = newest - window;
            foreach (var stale in cells.Keys.Where(k => k.Start <= oldest).ToList()) cells.Remove(stale);
        }
        if (start <= newest - window) return; // older than the window: in the totals and per day, and in the database
        var cell = new Cell(start, d);
        if (!cells.ContainsKey(cell) && cells.Count >= limits.MaxCells) cell = new Cell(start, UsageDimensions.Other);
        Slot(cells, cell).Add(c);
    }

    private string Bounded<T>(Dictionary<string, T> map, string name, string overflow) =>
        map.ContainsKey(name) || map.Count < limits.MaxEntries ? name : overflow;

    private static ref UsageCounters Slot<TKey>(Dictionary<TKey, UsageCounters> map, TKey key) where TKey : notnull =>
        ref CollectionsMarshal.GetValueRefOrAddDefault(map, key, out _);

    /// <summary>
    /// CLIProxyAPI's <c>GET /usage</c> body (<c>usage</c> and <c>failed_requests</c>), with PluginProxy's <c>breakdown</c>
    /// beside them. Details are the most recent requests only; totals are exact.
    /// </summary>
    public void WriteSnapshot(Utf8JsonWriter json, bool enabled, long dropped)
    {
        json.WriteStartObject();
        json.WritePropertyName("usage");
        json.WriteStartObject();
        UsageJson.WriteTotals(json, _total);
        json.WritePropertyName("apis");
        json.WriteStartObject();
        var details = _recent.GroupBy(r => ResolvePair(r.Dimensions)).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (key, counters) in _byKey.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(key);
            json.WriteStartObject();
            json.WriteNumber("total_requests", counters.Requests);
            json.WriteNumber("total_tokens", counters.TotalTokens);
            json.WritePropertyName("models");
            json.WriteStartObject();
            foreach (var ((_, model), modelCounters) in _byKeyModel.Where(p => p.Key.Key == key).OrderBy(p => p.Key.Model, StringComparer.Ordinal))
            {
                json.WritePropertyName(model);
                json.WriteStartObject();
                json.WriteNumber("total_requests", modelCounters.Requests);
                json.WriteNumber("total_tokens", modelCounters.TotalTokens);
                json.WritePropertyName("details");
                json.WriteStartArray();
                if (details.TryGetValue((key, model), out var list))
                    foreach (var record in list) UsageJson.WriteDetail(json, record);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        WriteByDayAndHour(json, _byDay.Select(d => (d.Key, d.Value)), _byHourOfDay);
        json.WriteEndObject();
        json.WriteNumber("failed_requests", _total.Failures);

        json.WritePropertyName("breakdown");
        json.WriteStartObject();
        json.WriteBoolean("enabled", enabled);
        json.WriteNumber("dropped", dropped);
        json.WritePropertyName("total");
        WriteCounters(json, _total);
        WriteMap(json, "by_client_key", _byKey);
        WriteMap(json, "by_provider", _byProvider);
        WriteMap(json, "by_model", _byModel);
        json.WritePropertyName("by_credential");
        json.WriteStartObject();
        foreach (var (id, entry) in _byCredential.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(id);
            json.WriteStartObject();
            json.WriteString("label", entry.Label);
            json.WriteString("provider", entry.Provider);
            entry.Counters.WriteFields(json);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        WriteCells(json, "hours", "hour", _hours);
        WriteCells(json, "days", "day", _days);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>CLIProxyAPI's four time maps: days as <c>yyyy-MM-dd</c>, hours of the day as <c>00</c>..<c>23</c> (UTC).</summary>
    public static void WriteByDayAndHour(Utf8JsonWriter json, IEnumerable<(DateOnly Day, UsageCounters Counters)> days, UsageCounters[] hoursOfDay)
    {
        var list = days.ToList();
        json.WritePropertyName("requests_by_day");
        json.WriteStartObject();
        foreach (var (day, c) in list) json.WriteNumber(day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), c.Requests);
        json.WriteEndObject();
        json.WritePropertyName("requests_by_hour");
        json.WriteStartObject();
        for (var h = 0; h < 24; h++)
            if (hoursOfDay[h].Requests > 0) json.WriteNumber(h.ToString("00", System.Globalization.CultureInfo.InvariantCulture), hoursOfDay[h].Requests);
        json.WriteEndObject();
        json.WritePropertyName("tokens_by_day");
        json.WriteStartObject();
        foreach (var (day, c) in list) json.WriteNumber(day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), c.TotalTokens);
        json.WriteEndObject();
        json.WritePropertyName("tokens_by_hour");
        json.WriteStartObject();
        for (var h = 0; h < 24; h++)
            if (hoursOfDay[h].Requests > 0) json.WriteNumber(h.ToString("00", System.Globalization.CultureInfo.InvariantCulture), hoursOfDay[h].TotalTokens);
        json.WriteEndObject();
    }

    private (string, string) ResolvePair(UsageDimensions d)
    {
        var key = _byKey.ContainsKey(d.ClientKey) ? d.ClientKey : Other;
        return _byKeyModel.ContainsKey((key, d.Model)) ? (key, d.Model) : (key, Other);
    }

    private static void WriteCounters(Utf8JsonWriter json, in UsageCounters c)
    {
        json.WriteStartObject();
        c.WriteFields(json);
        json.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter json, string name, Dictionary<string, UsageCounters> map)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        foreach (var (key, c) in map.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(key);
            WriteCounters(json, c);
        }
        json.WriteEndObject();
    }

    private static void WriteCells(Utf8JsonWriter json, string name, string startName, Dictionary<Cell, UsageCounters> cells)
    {
        json.WritePropertyName(name);
        json.WriteStartArray();
        foreach (var (cell, c) in cells.OrderBy(c => c.Key.Start).ThenBy(c => c.Key.Dimensions.ClientKey, StringComparer.Ordinal)
                     .ThenBy(c => c.Key.Dimensions.CredentialId, StringComparer.Ordinal).ThenBy(c => c.Key.Dimensions.Model, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString(startName, cell.Start);
            json.WriteString("client_key", cell.Dimensions.ClientKey);
            json.WriteString("provider", cell.Dimensions.Provider);
            json.WriteString("credential_id", cell.Dimensions.CredentialId);
            json.WriteString("credential", cell.Dimensions.Credential);
            json.WriteString("model", cell.Dimensions.Model);
            c.WriteFields(json);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
