using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>Interactive login and token refresh for an OAuth provider.</summary>
public interface IAuthenticator
{
    /// <summary>How long before expiry a token should be refreshed; null = only on demand.</summary>
    TimeSpan? RefreshLead { get; }

    /// <summary>Runs the login flow and returns the credential file to write into <c>auth-dir</c>.</summary>
    Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken);

    /// <summary>Refreshes tokens; returns the full new credential JSON (the host writes it atomically).</summary>
    Task<JsonObject> RefreshAsync(CredentialRecord credential, HttpClient http, CancellationToken cancellationToken);
}

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
}

/// <summary>A credential file produced by a login: <paramref name="FileName"/> inside auth-dir, CLIProxyAPI-compatible JSON.</summary>
public sealed record LoginResult(string FileName, JsonObject Content, string Label);
