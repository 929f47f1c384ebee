using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// Refreshes a credential's tokens through its provider's authenticator, at most one refresh per credential at a time,
/// and writes the result atomically; the new file content clears the credential's cooldowns (see Scheduler). A refresh
/// asked for with tokens that are no longer current is skipped: they were already replaced, and refreshing again would
/// spend a rotated refresh token.
/// </summary>
public sealed partial class CredentialRefresher(CredentialStore store, PluginRuntime plugins, ILogger<CredentialRefresher> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Starts a refresh unless one is running; returns the (shared) task, true when new tokens were saved.</summary>
    public Task<bool> RefreshAsync(CredentialRecord credential, HttpClient http)
    {
        if (credential.Source != CredentialSource.File || credential.FilePath is null) return Task.FromResult(false);
        Lazy<Task<bool>>? mine = null;
        mine = new Lazy<Task<bool>>(() => RunAsync(credential, http, () => _inFlight.TryRemove(KeyValuePair.Create(credential.Id, mine!))));
        return _inFlight.GetOrAdd(credential.Id, mine).Value;
    }

    private async Task<bool> RunAsync(CredentialRecord credential, HttpClient http, Action done)
    {
        await Task.Yield(); // leave GetOrAdd before doing work
        try
        {
            if (!IsCurrent(credential)) return false;
            // The refresh runs beyond the request that asked for it, so it holds its own lease on the plugin it calls.
            using var lease = plugins.Acquire();
            if (lease.Set.ProviderFor(credential.Type)?.Authenticator is not { } authenticator) return false;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var content = await authenticator.RefreshAsync(new RefreshContext { Credential = credential, Http = http }, timeout.Token).ConfigureAwait(false);
            await store.WriteAsync(Path.GetFileName(credential.FilePath!), content, timeout.Token).ConfigureAwait(false);
            LogRefreshed(credential.Label);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The exception text could echo a token from a careless provider; the log pipeline redacts known secrets.
            LogRefreshFailed(credential.Label, e.GetType().Name, e.Message);
            return false;
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

    [LoggerMessage(LogLevel.Warning, "Token refresh for {Credential} failed ({Error}: {Message}); it stays cooled down")]
    private partial void LogRefreshFailed(string credential, string error, string message);
}
