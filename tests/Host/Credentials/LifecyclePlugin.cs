using System.Globalization;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Credentials;

/// <summary>
/// Source of a provider plugin whose authenticator refreshes ahead of expiry, compiled at test time: credential type
/// <c>lifecycled</c>, a 5-minute <see cref="Lead"/>, and a refresh that posts the <c>refresh_token</c> to the
/// <c>token-url</c> setting (<c>providers.lifecycled</c>) and writes the new access token with <c>expired</c> set from
/// the refresh context's clock and the answer's <c>expires_in</c>. A 400 <c>invalid_grant</c> answer throws
/// <c>LoginRequiredException</c>; other failures throw what HttpClient throws. A credential's <c>plugin_expiry</c> field
/// is what the plugin's <c>ExpiresAt</c> reports.
/// </summary>
internal static class LifecyclePlugin
{
    public const string Type = "lifecycled";
    public static readonly TimeSpan Lead = TimeSpan.FromMinutes(5);

    private static readonly Lazy<byte[]> Assembly = new(() => TestPluginCompiler.Compile("TestLifecycled", "1.0.0", """
        using System.Globalization;
        using System.Net.Http.Headers;
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Credentials;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Sdk.Execution;

        namespace TestLifecycled;

        public sealed class LifecycledProvider : IProviderPlugin
        {
            public string Id => "lifecycled";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "lifecycled" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("life-model") };
            public IExecutor Executor { get; } = new LifecycledExecutor();
            public IAuthenticator? Authenticator { get; } = new LifecycledAuthenticator();
        }

        internal sealed class LifecycledExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
        {
            protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
            {
                var request = new HttpRequestMessage(HttpMethod.Post, Combine(call.Credential.GetString("base_url") ?? "http://127.0.0.1:9/", "chat/completions"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Credential.GetString("access_token"));
                return request;
            }
        }

        internal sealed class LifecycledAuthenticator : IAuthenticator
        {
            public TimeSpan? RefreshLead => TimeSpan.FromMinutes(5);

            public Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken) => throw new NotSupportedException();

            public DateTimeOffset? ExpiresAt(CredentialRecord credential) =>
                credential.GetString("plugin_expiry") is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture) : null;

            public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
            {
                var credential = context.Credential;
                var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = credential.GetString("refresh_token")! });
                using var response = await context.Http.PostAsync(context.Settings.GetString("token-url", "http://127.0.0.1:9/unset"), form, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if ((int)response.StatusCode == 400 && text.Contains("invalid_grant")) throw new LoginRequiredException("the refresh token was revoked");
                response.EnsureSuccessStatusCode();
                var tokens = JsonNode.Parse(text)!;
                var updated = JsonNode.Parse(credential.Metadata.GetRawText())!.AsObject();
                updated["access_token"] = (string?)tokens["access_token"];
                if (tokens["refresh_token"] is not null) updated["refresh_token"] = (string?)tokens["refresh_token"];
                updated["expired"] = context.Clock.GetUtcNow().AddSeconds((int?)tokens["expires_in"] ?? 3600).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture);
                updated.Remove("plugin_expiry");
                return updated;
            }
        }
        """));

    public static byte[] Compile() => Assembly.Value;

    /// <summary>A credential file; <paramref name="expired"/> is written as RFC 3339 with a +08:00 offset, as CLIProxyAPI writes it.</summary>
    public static string Credential(string label, string accessToken, DateTimeOffset? expired, string extra = "") =>
        $$"""{"type":"lifecycled","email":"{{label}}@example.test","access_token":"{{accessToken}}","refresh_token":"refresh-{{accessToken}}"{{
            (expired is { } e ? $",\"expired\":\"{e.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture)}\"" : "")}}{{extra}}}""";
}
