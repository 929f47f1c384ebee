namespace PluginProxy.Sdk.OAuth;

/// <summary>What a provider's browser login asks for. Only <see cref="AuthorizeUrl"/> and <see cref="ClientId"/> are required.</summary>
public sealed class AuthorizationRequest
{
    /// <summary>The provider's authorize endpoint (read it from the plugin's settings, with the real URL as the default).</summary>
    public required string AuthorizeUrl { get; init; }

    public required string ClientId { get; init; }

    /// <summary>Space-separated scopes; null leaves <c>scope</c> out.</summary>
    public string? Scope { get; init; }

    /// <summary>Shown in prompts and on the browser page ("Claude", "Codex").</summary>
    public string DisplayName { get; init; } = "the provider";

    /// <summary>The path the callback server answers, and of the built redirect URI.</summary>
    public string CallbackPath { get; init; } = "/callback";

    /// <summary>The listener's port when the user passed no <c>--callback-port</c>; 0 lets the system choose.</summary>
    public int CallbackPort { get; init; }

    /// <summary>
    /// A fixed redirect URI, for providers that registered one exact URI (Claude's <c>http://localhost:54545/callback</c>
    /// stays the same when <c>--callback-port</c> moves the listener, for an SSH tunnel). Null builds
    /// <c>http://{RedirectHost}:{actual port}{CallbackPath}</c>.
    /// </summary>
    public string? RedirectUri { get; init; }

    public string RedirectHost { get; init; } = "localhost";

    /// <summary>The authorize URL's name for the redirect URI (iFlow calls it <c>redirect</c>).</summary>
    public string RedirectParameterName { get; init; } = "redirect_uri";

    /// <summary><c>response_type</c>; null leaves it out.</summary>
    public string? ResponseType { get; init; } = "code";

    /// <summary>Sends an S256 challenge and returns the verifier for the exchange.</summary>
    public bool UsePkce { get; init; } = true;

    /// <summary>Random bytes behind the verifier: 32 gives 43 characters, 96 gives 128.</summary>
    public int VerifierBytes { get; init; } = 32;

    /// <summary>Further authorize-URL parameters, in order (<c>access_type=offline</c>, <c>prompt=consent</c>, ...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraParameters { get; init; } = [];
}

/// <summary>
/// The outcome of the browser step: what the token exchange needs. <see cref="ToString"/> never prints the code or verifier.
/// </summary>
/// <param name="Code">The authorization code.</param>
/// <param name="CodeVerifier">The PKCE verifier, or null when the request used none.</param>
/// <param name="RedirectUri">The redirect URI sent with the authorize URL; the exchange must repeat it.</param>
/// <param name="State">The state that was checked (Claude's exchange sends it).</param>
public sealed record AuthorizationCode(string Code, string? CodeVerifier, string RedirectUri, string State)
{
    public override string ToString() => $"AuthorizationCode(redirect {RedirectUri}, pkce {(CodeVerifier is null ? "no" : "yes")})";
}
