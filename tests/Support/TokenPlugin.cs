namespace PluginProxy.Tests.Support;

/// <summary>
/// Source of a provider plugin with OAuth-style credentials, compiled at test time: credential type <c>tokened</c>,
/// model <c>tok-model</c>, an OpenAI-compatible upstream at the credential's <c>base_url</c> called with its
/// <c>access_token</c>, and a refresh that trades <c>refresh_token</c> at <c>token_url</c> for a new access token.
/// </summary>
public static class TokenPlugin
{
    public const string Model = "tok-model";

    public static byte[] Compile() => TestPluginCompiler.Compile("TestTokened", "1.0.0", """
        using System.Net.Http.Headers;
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Credentials;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Sdk.Execution;

        namespace TestTokened;

        public sealed class TokenedProvider : IProviderPlugin
        {
            public string Id => "tokened";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "tokened" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("tok-model") };
            public IExecutor Executor { get; } = new TokenedExecutor();
            public IAuthenticator? Authenticator { get; } = new TokenedAuthenticator();
        }

        internal sealed class TokenedExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
        {
            protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query)
            {
                var request = new HttpRequestMessage(HttpMethod.Post, Combine(call.Credential.GetString("base_url")!, "chat/completions"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Credential.GetString("access_token"));
                return request;
            }
        }

        internal sealed class TokenedAuthenticator : IAuthenticator
        {
            public TimeSpan? RefreshLead => null;

            public Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken) => throw new NotSupportedException();

            public async Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
            {
                var credential = context.Credential;
                var http = context.Http;
                var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = credential.GetString("refresh_token")! });
                using var response = await http.PostAsync(credential.GetString("token_url"), form, cancellationToken);
                response.EnsureSuccessStatusCode();
                var tokens = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                var updated = JsonNode.Parse(credential.Metadata.GetRawText())!.AsObject();
                updated["access_token"] = (string?)tokens["access_token"];
                return updated;
            }
        }
        """);

    public static string Credential(string accessToken, string baseUrl, string tokenUrl) =>
        $$"""{"type":"tokened","email":"{{accessToken}}@example.test","access_token":"{{accessToken}}","refresh_token":"refresh-{{accessToken}}","base_url":"{{baseUrl}}","token_url":"{{tokenUrl}}"}""";
}
