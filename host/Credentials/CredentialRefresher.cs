using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Config;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Credentials;

/// <summary>How one refresh ended.</summary>
internal enum RefreshOutcome
{
    /// <summary>New tokens were saved.</summary>
    Refreshed,
    /// <summary>Nothing to do: the tokens were already replaced, the file is gone, no authenticator, or needs-login.</summary>
    Skipped,
    /// <summary>The refresh failed in a way worth retrying (transport error, provider error, plugin exception).</summary>
    Failed,
    /// <summary>The provider rejected the refresh token for good; the credential is now needs-login.</summary>
    LoginRequired,
}

/// <summary>
/// Refreshes a credential's tokens through its provider's authenticator, at most one refresh per credential at a time
/// (a 401 and the background <see cref="TokenLifecycle"/> share it), and writes the result atomically; the new file
/// content clears the credential's cooldowns (see Scheduler). A refresh asked for with tokens that are no longer current
/// is skipped: they were already replaced, and refreshing again would spend a rotated refresh token. A refresh the
/// provider rejects for good (<see cref="LoginRequiredException"/>) puts the credential in needs-login.
/// </summary>
internal sealed partial class CredentialRefresher(
    CredentialStore store,
    PluginRuntime plugins,
    ConfigStore config,
    HttpClientPool httpClients,
    CredentialHealth health,
    TimeProvider clock,
    ILogger<CredentialRefresher> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Lazy<Task<RefreshOutcome>>> _inFlight = new(StringComparer.Ordinal);

    public CredentialHealth Health => health;

    /// <summary>Starts a refresh unless one is running; returns the (shared) task, true when new tokens were saved.</summary>
    public async Task<bool> RefreshAsync(CredentialRecord credential, HttpClient http) =>
        await RefreshWithOutcomeAsync(credential, http).ConfigureAwait(false) == RefreshOutcome.Refreshed;

    /// <summary>
    /// Starts a refresh unless one is running for this credential, and returns the shared task. Without
    /// <paramref name="http"/>, the pooled client for the credential's proxy (else the global one) is used.
    /// </summary>
    public Task<RefreshOutcome> RefreshWithOutcomeAsync(CredentialRecord credential, HttpClient? http = null)
    {
        if (credential.Source != CredentialSource.File || credential.FilePath is null) return Task.FromResult(RefreshOutcome.Skipped);
        Lazy<Task<RefreshOutcome>>? mine = null;
        // Keyed by file: the accounts of a multi-project file share one token and so one refresh.
        var key = credential.FilePath ?? credential.Id;
        mine = new Lazy<Task<RefreshOutcome>>(() => RunAsync(credential, http, () => _inFlight.TryRemove(KeyValuePair.Create(key, mine!))));
        return _inFlight.GetOrAdd(key, mine).Value;
    }

    private async Task<RefreshOutcome> RunAsync(CredentialRecord credential, HttpClient? http, Action done)
    {
        await Task.Yield(); // leave GetOrAdd before doing work
        IProviderPlugin? provider = null;
        try
        {
            if (health.NeedsLogin(credential.Id) || !IsCurrent(credential)) return RefreshOutcome.Skipped;
            // The refresh runs beyond the request that asked for it, so it holds its own lease on the plugin it calls.
            using var lease = plugins.Acquire();
            provider = lease.Set.ProviderFor(credential.Type);
            if (provider?.Authenticator is not { } authenticator) return RefreshOutcome.Skipped;
            using var timeout = new CancellationTokenSource(Timeout, clock);
            var context = new RefreshContext
            {
                Credential = credential,
                Http = http ?? httpClients.For(credential.ProxyUrl, config.Config.ProxyUrl),
                Settings = config.Current.SettingsFor(provider.Id),
                Clock = clock,
            };
            var content = await authenticator.RefreshAsync(context, timeout.Token).ConfigureAwait(false);
            if (await store.WriteRefreshedAsync(credential, content, timeout.Token).ConfigureAwait(false) is null) return RefreshOutcome.Skipped;
            health.Refreshed(credential, clock.GetUtcNow());
            LogRefreshed(credential.Label);
            return RefreshOutcome.Refreshed;
        }
        catch (LoginRequiredException e)
        {
            var command = $"login {provider?.Id ?? credential.Provider}";
            if (health.MarkNeedsLogin(credential, e.Message, command, clock.GetUtcNow()))
                LogNeedsLogin(credential.Label, e.Message, command);
            // A new login may have landed while this refresh ran; it clears the state it would have missed.
            if (!IsCurrent(credential)) health.OnCredentialsChanged(store.Current);
            return RefreshOutcome.LoginRequired;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The exception text could echo a token from a careless provider; the log pipeline redacts known secrets.
            var status = health.RefreshFailed(credential, $"{e.GetType().Name}: {e.Message}", clock.GetUtcNow());
            LogRefreshFailed(credential.Label, e.GetType().Name, e.Message, status.ConsecutiveFailures);
            return RefreshOutcome.Failed;
        }
        finally
        {
            done();
        }
    }

    /// <summary>True when the store still holds exactly these tokens for the credential.</summary>
    public bool IsCurrent(CredentialRecord credential) =>
        store.Current.ById.TryGetValue(credential.Id, out var current)
        && current.Metadata.ValueKind == credential.Metadata.ValueKind
        && (current.Metadata.ValueKind == System.Text.Json.JsonValueKind.Undefined || current.Metadata.GetRawText() == credential.Metadata.GetRawText());

    [LoggerMessage(LogLevel.Information, "Refreshed the tokens of {Credential}")]
    private partial void LogRefreshed(string credential);

    [LoggerMessage(LogLevel.Warning, "Token refresh for {Credential} failed ({Error}: {Message}); {Failures} failure(s) in a row")]
    private partial void LogRefreshFailed(string credential, string error, string message, int failures);

    [LoggerMessage(LogLevel.Warning, "Credential {Credential} needs a new login ({Reason}); it is out of rotation until you run: {Command}")]
    private partial void LogNeedsLogin(string credential, string reason, string command);
}
