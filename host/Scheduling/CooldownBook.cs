using System.Collections.Concurrent;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Host.Scheduling;

/// <summary>Why and until when a (credential, model) is not used.</summary>
/// <param name="Until">When it may be used again.</param>
/// <param name="Kind">The failure that caused it.</param>
/// <param name="Status">The upstream HTTP status.</param>
/// <param name="BackoffLevel">For quota failures without a reset time: how many times in a row the backoff doubled.</param>
/// <param name="Reason">The failure's message (shown by the management API, redacted there), when known.</param>
/// <param name="Since">When the failure happened, when known.</param>
internal sealed record Cooldown(DateTimeOffset Until, FailureKind Kind, int Status, int BackoffLevel, string? Reason = null, DateTimeOffset? Since = null);

/// <summary>
/// Every cooldown, keyed by (credential id, model); the model <see cref="AnyModel"/> marks the whole credential
/// (an auth failure). It is independent of config and registry snapshots, so reloads that do not touch a credential
/// leave its cooldowns alone (CLIProxyAPI resets them on any reload).
/// </summary>
internal sealed class CooldownBook
{
    public const string AnyModel = "*";

    private readonly ConcurrentDictionary<(string Credential, string Model), Cooldown> _entries = new();

    /// <summary>A credential's cooldowns changed (set or cleared); <c>save-cooldown-status</c> writes them out.</summary>
    public event Action<string>? Changed;

    public Cooldown? Get(string credential, string model) => _entries.GetValueOrDefault((credential, model));

    public void Set(string credential, string model, Cooldown cooldown)
    {
        _entries[(credential, model)] = cooldown;
        Changed?.Invoke(credential);
    }

    /// <summary>A credential's entries (model, cooldown), expired ones included until they are cleared.</summary>
    public IReadOnlyList<(string Model, Cooldown Cooldown)> Of(string credential) =>
        [.. _entries.Where(e => e.Key.Credential == credential).Select(e => (e.Key.Model, e.Value))];

    /// <summary>Restores saved entries without announcing them (they are already on disk).</summary>
    internal void Restore(string credential, string model, Cooldown cooldown) => _entries[(credential, model)] = cooldown;

    /// <summary>The later of the model's and the credential-wide cooldown, if either is still running.</summary>
    public DateTimeOffset? BlockedUntil(string credential, string model, DateTimeOffset now)
    {
        DateTimeOffset? until = null;
        if (_entries.TryGetValue((credential, model), out var forModel) && forModel.Until > now) until = forModel.Until;
        if (_entries.TryGetValue((credential, AnyModel), out var whole) && whole.Until > now && (until is null || whole.Until > until)) until = whole.Until;
        return until;
    }

    /// <summary>After a success: the model's state and any credential-wide state are cleared.</summary>
    public void Succeeded(string credential, string model)
    {
        var removed = _entries.TryRemove((credential, model), out _);
        removed |= _entries.TryRemove((credential, AnyModel), out _);
        if (removed) Changed?.Invoke(credential);
    }

    /// <summary>Every cooldown still running at <paramref name="now"/>, for status listings.</summary>
    public IReadOnlyList<(string Credential, string Model, Cooldown Cooldown)> Running(DateTimeOffset now) =>
        [.. _entries.Where(e => e.Value.Until > now).Select(e => (e.Key.Credential, e.Key.Model, e.Value))];

    /// <summary>Clears a credential's cooldowns (new tokens), or everything when <paramref name="credential"/> is null.</summary>
    public int Clear(string? credential = null, string? model = null)
    {
        var removed = 0;
        foreach (var key in _entries.Keys)
        {
            if ((credential is null || key.Credential == credential) && (model is null || key.Model == model) && _entries.TryRemove(key, out _))
            {
                removed++;
                Changed?.Invoke(key.Credential);
            }
        }
        return removed;
    }
}
