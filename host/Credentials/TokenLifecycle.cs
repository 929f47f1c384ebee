using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// Renews tokens before they expire, without waiting for a request to fail: each file credential whose provider has an
/// authenticator with a <see cref="IAuthenticator.RefreshLead"/> and whose expiry is known is refreshed that long
/// before it expires. One timer on the <see cref="TimeProvider"/> is armed for the earliest due time; the plan is
/// rebuilt whenever the credentials, the plugins or the needs-login set change. Failures are retried with backoff
/// (30 s doubling to 10 min); a credential in needs-login is left alone. Cooldowns and quota state play no part.
/// Refreshes go through <see cref="CredentialRefresher"/>, so a 401-triggered refresh of the same credential is shared.
/// </summary>
internal sealed partial class TokenLifecycle : IDisposable
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(10);

    // A refresh that did not move the expiry past the lead (a short-lived token, a plugin that writes no expiry)
    // waits this long before the next one rather than looping.
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);

    // ITimer cannot wait much beyond 49 days; far-off expiries are re-checked daily.
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    private readonly CredentialStore _store;
    private readonly PluginRuntime _plugins;
    private readonly CredentialRefresher _refresher;
    private readonly CredentialHealth _health;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Plan> _plans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Retry> _retries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastRefreshed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private ITimer? _timer;
    private bool _disposed;

    private sealed record Plan(CredentialRecord Record, DateTimeOffset ExpiresAt, DateTimeOffset Due);

    // A retry applies to the content that failed; new content (a login, a 401 refresh) starts over.
    private sealed record Retry(CredentialRecord Record, int Failures, DateTimeOffset At);

    public TokenLifecycle(CredentialStore store, PluginRuntime plugins, CredentialRefresher refresher, CredentialHealth health, TimeProvider clock,
        ILogger<TokenLifecycle> logger)
    {
        _store = store;
        _plugins = plugins;
        _refresher = refresher;
        _health = health;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Plans from the current credentials and plugins and starts the timer.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _timer ??= _clock.CreateTimer(_ => Tick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        _store.Changed += OnCredentialsChanged;
        _plugins.Changed += OnPluginsChanged;
        _health.NeedsLoginChanged += Replan;
        Replan();
    }

    /// <summary>The next background refresh per credential id (for status listings and tests).</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> NextDue()
    {
        lock (_gate) return _plans.ToDictionary(p => p.Key, p => p.Value.Due, StringComparer.Ordinal);
    }

    private void OnCredentialsChanged(CredentialSnapshot _) => Replan();

    private void OnPluginsChanged(PluginSet _) => Replan();

    /// <summary>Rebuilds the plan from the stores' current values (inside the lock, so racing events never install a stale plan).</summary>
    public void Replan()
    {
        lock (_gate)
        {
            if (_disposed || _timer is null) return;
            ReplanLocked();
            ArmLocked();
        }
    }

    private void ReplanLocked()
    {
        var snapshot = _store.Current;
        using var lease = _plugins.Acquire();
        _plans.Clear();
        foreach (var record in snapshot.All)
        {
            if (record.Source != CredentialSource.File || record.Disabled || _health.NeedsLogin(record.Id)) continue;
            if (lease.Set.ProviderFor(record.Type)?.Authenticator is not { RefreshLead: { } lead } authenticator
                || ExpiryOf(authenticator, record) is not { } expires)
            {
                _health.Planned(record, record.ExpiresAt, null);
                continue;
            }
            var due = expires - lead;
            if (_retries.TryGetValue(record.Id, out var retry))
            {
                if (SameContent(retry.Record, record)) due = retry.At;
                else _retries.Remove(record.Id);
            }
            else if (_lastRefreshed.TryGetValue(record.Id, out var refreshed) && due < refreshed + MinInterval)
            {
                due = refreshed + MinInterval;
            }
            _plans[record.Id] = new Plan(record, expires, due);
            _health.Planned(record, expires, due);
        }
        // Forget what belongs to credentials that are gone.
        foreach (var id in _retries.Keys.Where(id => !snapshot.ById.ContainsKey(id)).ToList()) _retries.Remove(id);
        foreach (var id in _lastRefreshed.Keys.Where(id => !snapshot.ById.ContainsKey(id)).ToList()) _lastRefreshed.Remove(id);
    }

    // The plugin knows better than the file when it answers; a plugin bug must not stop the plan.
    private DateTimeOffset? ExpiryOf(IAuthenticator authenticator, CredentialRecord record)
    {
        try
        {
            return authenticator.ExpiresAt(record) ?? record.ExpiresAt;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogExpiryFailed(record.Label, e.GetType().Name);
            return record.ExpiresAt;
        }
    }

    private void ArmLocked()
    {
        DateTimeOffset? next = null;
        foreach (var (id, plan) in _plans)
            if (!_running.Contains(id) && (next is null || plan.Due < next)) next = plan.Due;
        if (next is null)
        {
            _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var wait = next.Value - _clock.GetUtcNow();
        _timer!.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait, Timeout.InfiniteTimeSpan);
    }

    private void Tick()
    {
        List<Plan> due;
        lock (_gate)
        {
            if (_disposed) return;
            var now = _clock.GetUtcNow();
            due = [.. _plans.Values.Where(p => p.Due <= now && !_running.Contains(p.Record.Id))];
            foreach (var plan in due) _running.Add(plan.Record.Id);
            ArmLocked();
        }
        foreach (var plan in due)
        {
            LogRefreshingAhead(plan.Record.Label, plan.ExpiresAt);
            _ = RunAsync(plan.Record);
        }
    }

    private async Task RunAsync(CredentialRecord record)
    {
        var outcome = RefreshOutcome.Failed;
        try
        {
            outcome = await _refresher.RefreshWithOutcomeAsync(record).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(record.Id);
                if (!_disposed)
                {
                    Completed(record, outcome);
                    ReplanLocked();
                    ArmLocked();
                }
            }
        }
    }

    private void Completed(CredentialRecord record, RefreshOutcome outcome)
    {
        var now = _clock.GetUtcNow();
        switch (outcome)
        {
            case RefreshOutcome.Refreshed:
                _retries.Remove(record.Id);
                _lastRefreshed[record.Id] = now;
                break;
            case RefreshOutcome.LoginRequired:
                _retries.Remove(record.Id);
                break;
            default:
                // Failed, or skipped while these tokens are still the current ones (nothing else will move the plan):
                // back off, so a failing credential is retried, not hammered.
                if (outcome == RefreshOutcome.Skipped && !_refresher.IsCurrent(record)) break;
                var failures = _retries.TryGetValue(record.Id, out var previous) && SameContent(previous.Record, record) ? previous.Failures + 1 : 1;
                _retries[record.Id] = new Retry(record, failures, now + BackoffFor(failures));
                break;
        }
    }

    /// <summary>30 s after the first failure, doubling, at most 10 min.</summary>
    public static TimeSpan BackoffFor(int failures)
    {
        var seconds = FirstRetry.TotalSeconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        return seconds >= MaxRetry.TotalSeconds ? MaxRetry : TimeSpan.FromSeconds(seconds);
    }

    private static bool SameContent(CredentialRecord a, CredentialRecord b) =>
        ReferenceEquals(a, b)
        || (a.Metadata.ValueKind == b.Metadata.ValueKind && (a.Metadata.ValueKind == System.Text.Json.JsonValueKind.Undefined || a.Metadata.GetRawText() == b.Metadata.GetRawText()));

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _timer?.Dispose();
        }
        _store.Changed -= OnCredentialsChanged;
        _plugins.Changed -= OnPluginsChanged;
        _health.NeedsLoginChanged -= Replan;
    }

    [LoggerMessage(LogLevel.Debug, "Refreshing {Credential} ahead of its expiry at {ExpiresAt}")]
    private partial void LogRefreshingAhead(string credential, DateTimeOffset expiresAt);

    [LoggerMessage(LogLevel.Warning, "The plugin failed to tell when {Credential} expires ({Error}); using the file's expiry")]
    private partial void LogExpiryFailed(string credential, string error);
}
