using System.Net.Http.Headers;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Codex.Execution;

/// <summary>The headers the Codex backend expects from the Codex CLI; a Codex client's own values win where it sent them.</summary>
internal static class CodexHeaders
{
    public const string DefaultVersion = "0.98.0";
    public const string DefaultUserAgent = "codex_cli_rs/0.98.0 (Mac OS 26.0.1; arm64) Apple_Terminal/464";
    public const string DefaultOriginator = "codex_cli_rs";
    public const string DefaultBeta = "responses=experimental";

    /// <summary>Client headers relayed as they are when present: the Codex CLI's turn and window state, its request id, its features.</summary>
    public static readonly string[] Relayed = ["x-codex-turn-state", "x-codex-window-id", "x-client-request-id", "x-codex-beta-features"];

    /// <summary>True for a ChatGPT login (auth file); false for a <c>codex-api-key</c> entry.</summary>
    public static bool IsOAuth(CredentialRecord credential) =>
        credential.Source == CredentialSource.File && string.IsNullOrEmpty(credential.ApiKey);

    public static string Token(CredentialRecord credential) =>
        (IsOAuth(credential) ? credential.GetString("access_token") : credential.ApiKey) is { Length: > 0 } token
            ? token
            : throw new InvalidOperationException($"credential {credential.Label} has no {(IsOAuth(credential) ? "access_token" : "api-key")}");

    public static void Apply(HttpRequestMessage request, UpstreamCall call, bool stream)
    {
        var credential = call.Credential;
        var client = call.ClientHeaders;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(credential));
        request.Headers.Accept.ParseAdd(stream ? "text/event-stream" : "application/json");
        request.Headers.TryAddWithoutValidation("version", Client(client, "version") ?? DefaultVersion);
        request.Headers.TryAddWithoutValidation("openai-beta", Client(client, "openai-beta") ?? DefaultBeta);
        // Only a Codex client's own user agent is passed on: other clients' identities mean nothing to this backend.
        var userAgent = Client(client, "user-agent");
        // codex-header-defaults.user-agent (copied into these settings by the host) replaces the default for ChatGPT logins only.
        var fallback = IsOAuth(credential) ? call.Settings.GetString("user-agent", DefaultUserAgent) : DefaultUserAgent;
        request.Headers.TryAddWithoutValidation("user-agent", userAgent is not null && userAgent.StartsWith("codex", StringComparison.OrdinalIgnoreCase) ? userAgent : fallback);
        var originator = Client(client, "originator");
        if (IsOAuth(credential))
        {
            request.Headers.TryAddWithoutValidation("originator", originator ?? DefaultOriginator);
            if (credential.GetString("account_id") is { Length: > 0 } account) request.Headers.TryAddWithoutValidation("chatgpt-account-id", account);
        }
        else if (originator is not null)
        {
            request.Headers.TryAddWithoutValidation("originator", originator);
        }
        foreach (var name in Relayed)
            if (Client(client, name) is { } value) request.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>The session headers, once the body's prompt cache key is known.</summary>
    public static void ApplySession(HttpRequestMessage request, UpstreamCall call, string? cacheKey)
    {
        var session = Client(call.ClientHeaders, "session_id") ?? cacheKey ?? Guid.NewGuid().ToString();
        request.Headers.TryAddWithoutValidation("session_id", session);
        var conversation = Client(call.ClientHeaders, "conversation_id") ?? cacheKey;
        if (conversation is not null) request.Headers.TryAddWithoutValidation("conversation_id", conversation);
    }

    /// <summary>The client's session, which keys the prompt cache when its body names none.</summary>
    public static string? SessionHint(UpstreamCall call) => Client(call.ClientHeaders, "session_id") ?? Client(call.ClientHeaders, "conversation_id");

    private static string? Client(IReadOnlyDictionary<string, string> headers, string name) =>
        headers.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}
