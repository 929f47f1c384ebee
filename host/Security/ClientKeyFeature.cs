namespace PluginProxy.Host.Security;

/// <summary>The client key a request was authenticated with, set by <see cref="ClientAuthMiddleware"/> when a configured key matched.</summary>
internal sealed class ClientKeyFeature(string key)
{
    public string Key { get; } = key;

    // Never print the key (this may end up in a log through a feature dump).
    public override string ToString() => nameof(ClientKeyFeature);
}

/// <summary>
/// Endpoint metadata for routes outside the protected path prefixes (plugin routes): <see cref="Required"/> enforces a
/// client key as on <c>/v1</c>; otherwise a presented key that matches is recorded but a missing or wrong one is not refused.
/// </summary>
internal sealed record ClientKeyMetadata(bool Required)
{
    public static readonly ClientKeyMetadata Enforced = new(true);
    public static readonly ClientKeyMetadata Identify = new(false);
    /// <summary>Plugin WebSocket endpoints (<c>/v1/ws</c>): enforced while <c>ws-auth</c> is on, identify-only otherwise, whatever the path.</summary>
    public static readonly ClientKeyMetadata WebSocket = new(false) { FollowsWsAuth = true };

    public bool FollowsWsAuth { get; init; }
}
