using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>Interactive login and token refresh for an OAuth provider.</summary>
public interface IAuthenticator
{
    /// <summary>
    /// How long before its access token expires the host refreshes a credential in the background; null = only after
    /// the upstream rejected the token (401).
    /// </summary>
    TimeSpan? RefreshLead { get; }

    /// <summary>Runs the login flow and returns the credential file to write into <c>auth-dir</c>. Writes nothing itself.</summary>
    Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Refreshes tokens; returns the full new credential JSON (the host writes it atomically, mode 0600). Throw
    /// <see cref="LoginRequiredException"/> when the provider rejected the refresh token for good (revoked, expired):
    /// the host then marks the credential <c>needs-login</c> and stops retrying. Other exceptions are retried with backoff.
    /// </summary>
    Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken);

    /// <summary>
    /// When the credential's access token expires, if the plugin knows better than the host, which reads CLIProxyAPI's
    /// <c>expired</c> field (RFC 3339 or Unix seconds/milliseconds), <c>expiry_date</c> and <c>token.expiry</c>.
    /// </summary>
    DateTimeOffset? ExpiresAt(CredentialRecord credential) => null;
}

/// <summary>What a refresh may use.</summary>
public sealed class RefreshContext
{
    public required CredentialRecord Credential { get; init; }
    /// <summary>Pooled client for the credential's proxy setting. Do not dispose.</summary>
    public required HttpClient Http { get; init; }
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// The provider rejected the credential's refresh token for good; only a new login helps. The message is shown to the
/// operator and must not contain tokens.
/// </summary>
public sealed class LoginRequiredException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What the login flow may use. Progress goes to <see cref="Output"/>; it never contains tokens.</summary>
public sealed class LoginContext
{
    public bool NoBrowser { get; init; }
    public int? CallbackPort { get; init; }
    public required HttpClient Http { get; init; }
    public required TextWriter Output { get; init; }
    /// <summary>Reads a line the user pastes (for the paste-the-redirect-URL fallback); null when there is no terminal.</summary>
    public Func<CancellationToken, Task<string?>>? ReadLine { get; init; }
    /// <summary>Opens a URL in the user's browser; returns false if that failed.</summary>
    public Func<string, bool>? OpenBrowser { get; init; }
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public PluginSettings Settings { get; init; } = PluginSettings.Empty;
    /// <summary>Provider-specific command-line options (<c>--project-id X</c> becomes <c>project-id</c> = <c>X</c>; a bare flag maps to <c>true</c>).</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
    /// <summary>How long to wait for the browser's callback before also offering to paste the redirect URL.</summary>
    public TimeSpan PasteAfter { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>How long the whole interactive step may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Names of credential files already in auth-dir, with their JSON, for duplicate checks (for example iFlow's cookie).</summary>
    public Func<IReadOnlyList<CredentialRecord>>? ExistingCredentials { get; init; }
}

/// <summary>A credential file produced by a login: <paramref name="FileName"/> inside auth-dir, CLIProxyAPI-compatible JSON.</summary>
public sealed record LoginResult(string FileName, JsonObject Content, string Label);
