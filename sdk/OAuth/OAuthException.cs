namespace PluginProxy.Sdk.OAuth;

/// <summary>
/// A login or token request failed in a way a new attempt may fix (consent denied, state mismatch, timeout, a busy
/// port, a provider error). The message is meant for the operator and never contains a token, code or verifier.
/// A refresh token the provider rejected for good is reported as <c>LoginRequiredException</c> instead.
/// </summary>
public sealed class OAuthException(string message, int? status = null, string? error = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The HTTP status of the provider's answer, when there was one.</summary>
    public int? Status { get; } = status;

    /// <summary>The provider's OAuth <c>error</c> code (<c>access_denied</c>, <c>expired_token</c>, ...), when it gave one.</summary>
    public string? Error { get; } = error;
}
