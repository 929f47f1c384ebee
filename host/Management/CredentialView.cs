using System.Globalization;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Management;

/// <summary>
/// What the management API shows about a credential: its state (<c>active</c>, <c>cooling</c>, <c>needs-login</c>,
/// <c>disabled</c>), every running cooldown with its reason and end, token expiry and the last refresh error. Never a
/// token: reasons and errors pass the redactor.
/// </summary>
internal sealed class CredentialView(Scheduler scheduler, CredentialHealth health, SecretRedactor redactor, PluginProxy.Host.Config.ConfigStore config)
{
    /// <summary>The live session-affinity bindings (<c>routing.session-affinity</c>), under the current TTL.</summary>
    public AffinityView Affinity() => scheduler.Affinity.View(config.Config.Routing.AffinityTtl);

    /// <summary><c>GET /session-affinity</c>: whether it is on, the TTL, and the bindings in total and per credential.</summary>
    public JsonObject AffinityJson(IReadOnlyDictionary<string, CredentialRecord> byId)
    {
        var routing = config.Config.Routing;
        var view = Affinity();
        return new JsonObject
        {
            ["enabled"] = routing.SessionAffinity,
            ["ttl_seconds"] = (long)routing.AffinityTtl.TotalSeconds,
            ["capacity"] = scheduler.Affinity.Capacity,
            ["sessions"] = view.Count,
            ["response_ids"] = scheduler.ResponseChains.View(routing.AffinityTtl).Count,
            ["credentials"] = new JsonArray([.. view.PerCredential.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => (JsonNode)new JsonObject
                {
                    ["auth_index"] = p.Key,
                    ["label"] = byId.TryGetValue(p.Key, out var r) ? r.Label : null,
                    ["sessions"] = p.Value,
                })]),
        };
    }

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Running cooldowns grouped by credential id.</summary>
    public ILookup<string, (string Model, Cooldown Cooldown)> Cooldowns() =>
        scheduler.Book.Running(scheduler.Clock.GetUtcNow()).ToLookup(e => e.Credential, e => (e.Model, e.Cooldown), StringComparer.Ordinal);

    public JsonObject CooldownJson(string credential, string model, Cooldown cooldown, string? label = null)
    {
        var now = scheduler.Clock.GetUtcNow();
        var whole = model == CooldownBook.AnyModel;
        return new JsonObject
        {
            ["auth_index"] = credential,
            ["label"] = label,
            ["model"] = whole ? null : model,
            ["scope"] = whole ? "credential" : "model",
            ["reason"] = cooldown.Reason is { } r ? redactor.Redact(r) : cooldown.Kind.ToString(),
            ["kind"] = KindName(cooldown.Kind),
            ["status_code"] = cooldown.Status,
            ["since"] = cooldown.Since is { } since ? Time(since) : null,
            ["until"] = Time(cooldown.Until),
            ["remaining_seconds"] = (long)Math.Ceiling((cooldown.Until - now).TotalSeconds),
        };
    }

    /// <summary>One <c>auth-files</c> entry (CLIProxyAPI's fields, plus PluginProxy's cooldown and token details).</summary>
    /// <param name="sessions">Conversations bound to this credential by session affinity.</param>
    public JsonObject Entry(CredentialRecord record, IEnumerable<(string Model, Cooldown Cooldown)> cooldowns, int sessions = 0)
    {
        var status = health.Get(record.Id);
        var cooling = cooldowns.OrderBy(c => c.Cooldown.Until).ToList();
        var (state, message) = record.Disabled ? ("disabled", "disabled")
            : status?.NeedsLogin == true ? ("needs-login", redactor.Redact(status.NeedsLoginReason ?? "the provider rejected the refresh token; log in again"))
            : cooling.Count > 0 ? ("cooling", Summary(cooling))
            : ("active", "");
        var file = record.FilePath is { } path ? new FileInfo(path) : null;
        var expires = status?.ExpiresAt ?? record.ExpiresAt;
        var entry = new JsonObject
        {
            ["id"] = record.Id,
            ["auth_index"] = record.Id,
            ["name"] = file?.Name ?? record.Id,
            ["type"] = record.Type,
            ["provider"] = record.Provider,
            ["label"] = record.Label,
            ["email"] = record.GetString("email"),
            ["status"] = state,
            ["status_message"] = message,
            ["disabled"] = record.Disabled,
            ["unavailable"] = state is "needs-login" || cooling.Any(c => c.Model == CooldownBook.AnyModel),
            ["needs_login"] = status?.NeedsLogin == true,
            ["runtime_only"] = record.Source == CredentialSource.Runtime,
            ["source"] = record.Source == CredentialSource.File ? "file" : "memory",
            ["size"] = file is { Exists: true } ? file.Length : null,
            ["modtime"] = file is { Exists: true } ? Time(file.LastWriteTimeUtc) : null,
            ["path"] = file?.FullName,
            ["expires_at"] = expires is { } e ? Time(e) : null,
            ["last_refresh"] = status?.LastRefreshed is { } refreshed ? Time(refreshed) : null,
            ["next_refresh"] = status?.NextRefreshDue is { } due ? Time(due) : null,
            ["last_error"] = status?.LastRefreshError is { } error ? redactor.Redact(error) : null,
            ["last_error_at"] = status?.LastRefreshErrorAt is { } errorAt ? Time(errorAt) : null,
            ["next_retry_after"] = cooling.Count > 0 ? Time(cooling.Max(c => c.Cooldown.Until)) : null,
            ["cooldowns"] = new JsonArray([.. cooling.Select(c => (JsonNode)CooldownJson(record.Id, c.Model, c.Cooldown))]),
            ["sessions"] = sessions,
        };
        return entry;
    }

    private string Summary(List<(string Model, Cooldown Cooldown)> cooling)
    {
        var first = cooling[0];
        var what = first.Model == CooldownBook.AnyModel ? "all models" : first.Model;
        var more = cooling.Count > 1 ? $" (+{cooling.Count - 1} more)" : "";
        return $"{what} cooling until {Time(first.Cooldown.Until)}: {redactor.Redact(first.Cooldown.Reason ?? first.Cooldown.Kind.ToString())}{more}";
    }

    private static string KindName(PluginProxy.Abstractions.Upstream.FailureKind kind) => kind switch
    {
        PluginProxy.Abstractions.Upstream.FailureKind.Quota => "quota",
        PluginProxy.Abstractions.Upstream.FailureKind.AuthRevoked => "auth",
        PluginProxy.Abstractions.Upstream.FailureKind.Forbidden => "forbidden",
        PluginProxy.Abstractions.Upstream.FailureKind.ModelNotFound => "model-not-found",
        PluginProxy.Abstractions.Upstream.FailureKind.Transient => "transient",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
