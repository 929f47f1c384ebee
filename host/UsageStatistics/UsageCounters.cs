using System.Text.Json;

namespace PluginProxy.Host.UsageStatistics;

/// <summary>Sums over a set of requests. A mutable struct kept inside dictionaries and updated by reference.</summary>
internal struct UsageCounters
{
    public long Requests;
    public long Failures;
    public long InputTokens;
    public long OutputTokens;
    public long ReasoningTokens;
    public long CachedTokens;
    public long TotalTokens;
    public long LatencyMs;

    public readonly long Successes => Requests - Failures;

    public static UsageCounters Of(in UsageRecord record) => new()
    {
        Requests = 1,
        Failures = record.Failed ? 1 : 0,
        InputTokens = record.Tokens.Input,
        OutputTokens = record.Tokens.Output,
        ReasoningTokens = record.Tokens.Reasoning,
        CachedTokens = record.Tokens.Cached,
        TotalTokens = record.Tokens.Total,
        LatencyMs = record.LatencyMs,
    };

    public void Add(in UsageCounters other)
    {
        Requests += other.Requests;
        Failures += other.Failures;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        ReasoningTokens += other.ReasoningTokens;
        CachedTokens += other.CachedTokens;
        TotalTokens += other.TotalTokens;
        LatencyMs += other.LatencyMs;
    }

    /// <summary>The PluginProxy counters object (the <c>breakdown</c> section of <c>GET /usage</c>).</summary>
    public readonly void WriteFields(Utf8JsonWriter json)
    {
        json.WriteNumber("requests", Requests);
        json.WriteNumber("success_count", Successes);
        json.WriteNumber("failure_count", Failures);
        json.WriteNumber("input_tokens", InputTokens);
        json.WriteNumber("output_tokens", OutputTokens);
        json.WriteNumber("reasoning_tokens", ReasoningTokens);
        json.WriteNumber("cached_tokens", CachedTokens);
        json.WriteNumber("total_tokens", TotalTokens);
        json.WriteNumber("latency_ms_total", LatencyMs);
        json.WriteNumber("latency_ms_average", Requests == 0 ? 0 : LatencyMs / Requests);
    }
}
