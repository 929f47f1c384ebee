using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// What the host knows about one credential's tokens, for status listings. Immutable; never holds a secret.
/// </summary>
internal sealed record CredentialStatus
{
    public required string Id { get; init; }

    public required string Label { get; init; }

    /// <summary>Set while the provider has rejected the refresh token for good; only a new login clears it.</summary>
    public DateTimeOffset? NeedsLoginSince { get; init; }

    /// <summary>The provider's explanation (from <c>LoginRequiredException</c>); no tokens.</summary>
    public string? NeedsLoginReason { get; init; }

    /// <summary>The command that fixes <c>needs-login</c>, for example <c>login claude</c>.</summary>
    public string? LoginCommand { get; init; }

    public bool NeedsLogin => NeedsLoginSince is not null;

    /// <summary>The last refresh failure other than needs-login (exception type and message), cleared by a success.</summary>
    public string? LastRefreshError { get; init; }

    public DateTimeOffset? LastRefreshErrorAt { get; init; }

    /// <summary>Refresh failures in a row (the background retry backs off on this).</summary>
    public int ConsecutiveFailures { get; init; }

    public DateTimeOffset? LastRefreshed { get; init; }

    /// <summary>When the access token expires, as the background refresher sees it (the plugin's answer wins over the file's).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the background refresher will renew it next; null when it does not (no lead, expiry unknown, needs-login).</summary>
    public DateTimeOffset? NextRefreshDue { get; init; }

    // Hash of the file content that was rejected: any other content (a new login) clears needs-login.
    internal string? RejectedContent { get; init; }
}

/// <summary>
/// Token health per credential id. Reads are O(1) and lock-free (the scheduler asks <see cref="NeedsLogin"/> per pick);
/// each entry is an immutable <see cref="CredentialStatus"/> replaced whole.
/// </summary>
internal sealed class CredentialHealth
{
    private readonly ConcurrentDictionary<string, CredentialStatus> _statuses = new(StringComparer.Ordinal);

    /// <summary>Raised when a credential enters or leaves needs-login (the scheduler rebuilds its pools).</summary>
    public event Action? NeedsLoginChanged;

    public bool NeedsLogin(string credentialId) => _statuses.TryGetValue(credentialId, out var s) && s.NeedsLoginSince is not null;

    public CredentialStatus? Get(string credentialId) => _statuses.GetValueOrDefault(credentialId);

    /// <summary>Every credential with something to report, sorted by id.</summary>
    public IReadOnlyList<CredentialStatus> Snapshot() => [.. _statuses.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];

    /// <summary>Marks needs-login; false when it already was (so the caller warns once).</summary>
    internal bool MarkNeedsLogin(CredentialRecord credential, string reason, string loginCommand, DateTimeOffset now)
    {
        var entered = false;
        _statuses.AddOrUpdate(credential.Id,
            _ =>
            {
                entered = true;
                return new CredentialStatus { Id = credential.Id, Label = credential.Label } with
                {
                    NeedsLoginSince = now, NeedsLoginReason = reason, LoginCommand = loginCommand, RejectedContent = ContentHash(credential), NextRefreshDue = null,
                };
            },
            (_, old) =>
            {
                entered = old.NeedsLoginSince is null;
                return old with
                {
                    NeedsLoginSince = old.NeedsLoginSince ?? now, NeedsLoginReason = reason, LoginCommand = loginCommand,
                    RejectedContent = ContentHash(credential), NextRefreshDue = null,
                };
            });
        if (entered) NeedsLoginChanged?.Invoke();
        return entered;
    }

    internal void Refreshed(CredentialRecord credential, DateTimeOffset now) =>
        Update(credential, s => s with { LastRefreshed = now, LastRefreshError = null, LastRefreshErrorAt = null, ConsecutiveFailures = 0 });

    internal CredentialStatus RefreshFailed(CredentialRecord credential, string error, DateTimeOffset now) =>
        Update(credential, s => s with { LastRefreshError = error, LastRefreshErrorAt = now, ConsecutiveFailures = s.ConsecutiveFailures + 1 });

    internal void Planned(CredentialRecord credential, DateTimeOffset? expiresAt, DateTimeOffset? due)
    {
        // Credentials with nothing to report stay out of the table (1,000 API keys need no entries).
        if (!_statuses.ContainsKey(credential.Id) && expiresAt is null && due is null) return;
        Update(credential, s => s.ExpiresAt == expiresAt && s.NextRefreshDue == due ? s : s with { ExpiresAt = expiresAt, NextRefreshDue = due });
    }

    /// <summary>
    /// Called with each credential snapshot: a needs-login credential whose file now holds other content (a new login)
    /// is usable again, and credentials that are gone are forgotten.
    /// </summary>
    public void OnCredentialsChanged(CredentialSnapshot snapshot)
    {
        var changed = false;
        foreach (var (id, status) in _statuses)
        {
            if (!snapshot.ById.TryGetValue(id, out var record))
            {
                changed |= _statuses.TryRemove(KeyValuePair.Create(id, status)) && status.NeedsLogin;
                continue;
            }
            if (status.NeedsLogin && status.RejectedContent != ContentHash(record))
            {
                var cleared = status with
                {
                    NeedsLoginSince = null, NeedsLoginReason = null, LoginCommand = null, RejectedContent = null,
                    ConsecutiveFailures = 0, LastRefreshError = null, LastRefreshErrorAt = null, Label = record.Label,
                };
                changed |= _statuses.TryUpdate(id, cleared, status);
            }
        }
        if (changed) NeedsLoginChanged?.Invoke();
    }

    private CredentialStatus Update(CredentialRecord credential, Func<CredentialStatus, CredentialStatus> change) =>
        _statuses.AddOrUpdate(credential.Id, (_, c) => change(new CredentialStatus { Id = c.Id, Label = c.Label }), (_, old, _) => change(old), credential);

    internal static string ContentHash(CredentialRecord credential) =>
        credential.Metadata.ValueKind == JsonValueKind.Undefined
            ? ""
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential.Metadata.GetRawText())));
}
