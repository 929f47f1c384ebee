using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Host.Credentials;

/// <summary>
/// Refreshes a credential's tokens through its provider's authenticator, at most one refresh per credential at a time,
/// and writes the result atomically. The new file content clears the credential's cooldowns (see Scheduler).
/// </summary>
public sealed partial class CredentialRefresher(CredentialStore store, ILogger<CredentialRefresher> logger)
{
    private readonly ConcurrentDictionary<string, Task<bool>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Starts a refresh unless one is running; returns the (shared) task, true when new tokens were saved.</summary>
    public Task<bool> RefreshAsync(CredentialRecord credential, IAuthenticator authenticator, HttpClient http)
    {
        if (credential.Source != CredentialSource.File || credential.FilePath is null) return Task.FromResult(false);
        return _inFlight.GetOrAdd(credential.Id, _ => RunAsync(credential, authenticator, http));
    }

    private async Task<bool> RunAsync(CredentialRecord credential, IAuthenticator authenticator, HttpClient http)
    {
        await Task.Yield(); // leave GetOrAdd before doing work
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var content = await authenticator.RefreshAsync(credential, http, timeout.Token).ConfigureAwait(false);
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
            _inFlight.TryRemove(credential.Id, out _);
        }
    }

    [LoggerMessage(LogLevel.Information, "Refreshed the tokens of {Credential}")]
    private partial void LogRefreshed(string credential);

    [LoggerMessage(LogLevel.Warning, "Token refresh for {Credential} failed ({Error}: {Message}); it stays cooled down")]
    private partial void LogRefreshFailed(string credential, string error, string message);
}
