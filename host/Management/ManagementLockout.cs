using System.Collections.Concurrent;

namespace PluginProxy.Host.Management;

/// <summary>
/// Failed management logins per client address: the fifth in a row locks the address out for 30 minutes (loopback
/// included: a local process guessing the key is as unwelcome as a remote one). A success clears the count.
/// </summary>
internal sealed class ManagementLockout(TimeProvider clock)
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan BanDuration = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);
    private const int PurgeAbove = 10_000;

    private sealed record Entry(int Failures, DateTimeOffset LastFailure, DateTimeOffset? BannedUntil);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How long the address stays locked out, or null.</summary>
    public TimeSpan? BannedFor(string address)
    {
        var now = clock.GetUtcNow();
        return _entries.TryGetValue(address, out var entry) && entry.BannedUntil is { } until && until > now ? until - now : null;
    }

    /// <summary>
    /// Counts a key check that has not finished yet as a failure, before it runs, so parallel guesses cannot get past
    /// <see cref="MaxFailures"/>; a success then clears it. False when the address is already locked out.
    /// </summary>
    public bool TryAttempt(string address)
    {
        var counted = false;
        var now = clock.GetUtcNow();
        if (_entries.Count > PurgeAbove) Purge(now);
        _entries.AddOrUpdate(address,
            _ =>
            {
                counted = true;
                return new Entry(1, now, null);
            },
            (_, old) =>
            {
                if (old.BannedUntil is { } until && until > now)
                {
                    counted = false;
                    return old;
                }
                counted = true;
                var failures = old.BannedUntil is not null || now - old.LastFailure > ForgetAfter ? 1 : old.Failures + 1;
                return failures >= MaxFailures ? new Entry(0, now, now + BanDuration) : new Entry(failures, now, null);
            });
        return counted;
    }

    public void Failed(string address)
    {
        var now = clock.GetUtcNow();
        if (_entries.Count > PurgeAbove) Purge(now);
        _entries.AddOrUpdate(address,
            _ => new Entry(1, now, null),
            (_, old) =>
            {
                if (old.BannedUntil is { } until && until > now) return old;
                var failures = old.BannedUntil is not null || now - old.LastFailure > ForgetAfter ? 1 : old.Failures + 1;
                return failures >= MaxFailures ? new Entry(0, now, now + BanDuration) : new Entry(failures, now, null);
            });
    }

    public void Succeeded(string address) => _entries.TryRemove(address, out _);

    private void Purge(DateTimeOffset now)
    {
        foreach (var (address, entry) in _entries)
            if ((entry.BannedUntil is null || entry.BannedUntil <= now) && now - entry.LastFailure > ForgetAfter)
                _entries.TryRemove(KeyValuePair.Create(address, entry));
    }
}
