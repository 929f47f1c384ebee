using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>An upstream provider: who it is, which credentials it owns, what it speaks and serves, and how to call it.</summary>
public interface IProviderPlugin : IPlugin
{
    /// <summary>Credential <c>type</c> values this plugin owns (auth-file <c>"type"</c>, or the config block kind such as <c>openai-compatibility</c>).</summary>
    IReadOnlyList<string> CredentialTypes { get; }

    /// <summary>The dialect the upstream speaks; requests in this dialect are passed through untranslated.</summary>
    Dialect NativeDialect { get; }

    /// <summary>Built-in model catalog. A credential's own <c>models</c> list replaces it.</summary>
    IReadOnlyList<ModelInfo> Models { get; }

    IExecutor Executor { get; }

    /// <summary>Interactive login and token refresh; null for API-key-only providers.</summary>
    IAuthenticator? Authenticator { get; }

    /// <summary>Contract 2.2: WebSocket paths this plugin serves (the AI Studio relay's <c>/v1/ws</c>); most plugins have none.</summary>
    IReadOnlyList<SocketEndpoint> SocketEndpoints => [];

    /// <summary>
    /// Contract 2.2: the transport for one attempt with <paramref name="credential"/>, for accounts the host cannot reach
    /// over TCP (a relay session). The host uses the handler as the innermost handler of that attempt's
    /// <see cref="UpstreamCall.Http"/> instead of its pooled socket handler, so the host's per-attempt concerns (credential
    /// headers, payload rules, timeouts) still apply; null (the default) means the pooled handler. The host never disposes
    /// the handler. Failures before a response should be thrown as transient <see cref="Upstream.UpstreamException"/>s so
    /// the host moves on to the next credential; a body that breaks off should throw from its stream.
    /// </summary>
    System.Net.Http.HttpMessageHandler? TransportFor(CredentialRecord credential) => null;
}
