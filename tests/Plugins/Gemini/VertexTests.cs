using System.ClientModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using OpenAI;
using OpenAI.Chat;
using PluginProxy.Host.Cli;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>
/// Vertex through the real server and the built Gemini plugin: a service-account file (JWT-bearer token, regional
/// aiplatform path) and a <c>vertex-api-key</c> entry, against one loopback fake playing Google; and the offline
/// <c>login vertex --key-file</c> / <c>import vertex</c>.
/// </summary>
public sealed class VertexTests : IAsyncLifetime
{
    private const string ClientKey = "client-key-vertex";
    private const string Project = "proj-vertex";
    private const string Location = "europe-west4";
    private const string Email = "svc@proj-vertex.iam.gserviceaccount.com";
    private const string VertexToken = "ya29.vertex-token-1";
    private const string GatewayKey = "vk-gateway-123";
    private const string Model = "gemini-2.5-pro";

    private const string Answer = """{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi from Vertex"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},"modelVersion":"gemini-2.5-pro"}""";

    private readonly RSA _key = RSA.Create(2048);
    private FakeUpstreamHost _google = null!;
    private TestServer? _server;
    private readonly string _dir = Directory.CreateTempSubdirectory("pluginproxy-vertex-").FullName;

    private string Root => _google.Root.GetLeftPart(UriPartial.Authority);
    private string TokenUrl => Root + "/token";
    private IReadOnlyList<RecordedRequest> TokenCalls => [.. _google.Requests.Where(r => r.Path == "/token")];
    private IReadOnlyList<RecordedRequest> ModelCalls => [.. _google.Requests.Where(r => r.Path != "/token")];

    public async Task InitializeAsync() => _google = await FakeUpstreamHost.StartAsync(AnswerAsync);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        await _google.DisposeAsync();
        _key.Dispose();
        Directory.Delete(_dir, true);
    }

    private static Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path == "/token")
            return FakeReply.Json(new JsonObject { ["access_token"] = VertexToken, ["expires_in"] = 3600, ["token_type"] = "Bearer" }).WriteAsync(http, request);
        if (request.Path.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
            return FakeReply.Sse([
                """data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi from"}]}}]}""" + "\r\n\r\n",
                """data: {"candidates":[{"content":{"role":"model","parts":[{"text":" Vertex"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}""" + "\r\n\r\n",
            ]).WriteAsync(http, request);
        return FakeReply.Raw(200, "application/json", Encoding.UTF8.GetBytes(Answer)).WriteAsync(http, request);
    }

    /// <summary>A Google service-account key file with this test's RSA key (PKCS#8 PEM, as Google issues them).</summary>
    private JsonObject ServiceAccountKey(bool withPrivateKey = true)
    {
        var key = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = Project,
            ["private_key_id"] = "kid-1",
            ["client_email"] = Email,
            ["client_id"] = "1234567890",
            ["token_uri"] = "https://oauth2.googleapis.com/token",
        };
        if (withPrivateKey) key["private_key"] = _key.ExportPkcs8PrivateKeyPem() + "\n";
        return key;
    }

    private async Task StartAsync(bool serviceAccount, bool apiKey)
    {
        var config = $$"""
            api-keys: ["{{ClientKey}}"]
            providers:
              vertex:
                api-url: "{{Root}}/at-{location}"
                token-url: "{{TokenUrl}}"
            """ + "\n";
        if (apiKey) config += $"vertex-api-key:\n  - api-key: \"{GatewayKey}\"\n    base-url: \"{Root}/gateway\"\n";
        var file = new JsonObject
        {
            ["service_account"] = ServiceAccountKey(), ["project_id"] = Project, ["email"] = Email, ["location"] = Location, ["type"] = "vertex",
        };
        _server = await TestServer.StartAsync(config, prepare: dir =>
        {
            if (serviceAccount) File.WriteAllText(Path.Combine(dir, "auths", $"vertex-{Project}.json"), file.ToJsonString());
        }, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
    }

    private ChatClient Chat() =>
        new(Model, new ApiKeyCredential(ClientKey), new OpenAIClientOptions { Endpoint = new Uri(_server!.Address, "/v1") });

    private const string RegionalPath = $"/at-{Location}/v1/projects/{Project}/locations/{Location}/publishers/google/models/{Model}";

    [Fact]
    public async Task The_token_request_carries_an_RS256_JWT_signed_by_the_service_account()
    {
        await StartAsync(serviceAccount: true, apiKey: false);

        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hi from Vertex", completion.Content[0].Text);

        var form = FakeTokenEndpoint.Form(Assert.Single(TokenCalls));
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", form["grant_type"]);
        var parts = form["assertion"].Split('.');
        Assert.Equal(3, parts.Length);
        Assert.True(_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        using (var other = RSA.Create(2048))
            Assert.False(other.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var header = JsonNode.Parse(FromBase64Url(parts[0]))!;
        Assert.Equal("RS256", (string?)header["alg"]);
        var claims = JsonNode.Parse(FromBase64Url(parts[1]))!;
        Assert.Equal(Email, (string?)claims["iss"]);
        Assert.Equal("https://www.googleapis.com/auth/cloud-platform", (string?)claims["scope"]);
        Assert.Equal(TokenUrl, (string?)claims["aud"]);
        Assert.Equal(3600, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.DoesNotContain(VertexToken, _server!.Logs);
        Assert.DoesNotContain(form["assertion"], _server.Logs);
    }

    [Fact]
    public async Task An_OpenAI_chat_client_is_served_at_the_regional_path_and_two_requests_fetch_one_token()
    {
        await StartAsync(serviceAccount: true, apiKey: false);

        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("hi")]);
        var text = new StringBuilder();
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("again")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);

        Assert.Equal("Hi from Vertex", completion.Content[0].Text);
        Assert.Equal(5, completion.Usage.InputTokenCount);
        Assert.Equal("Hi from Vertex", text.ToString());
        Assert.Single(TokenCalls);
        Assert.Collection(ModelCalls,
            first =>
            {
                Assert.Equal(RegionalPath + ":generateContent", first.Path);
                Assert.Equal($"Bearer {VertexToken}", first.Header("authorization"));
                Assert.Null(first.Header("x-goog-api-key"));
            },
            second =>
            {
                Assert.Equal(RegionalPath + ":streamGenerateContent", second.Path);
                Assert.Contains("alt=sse", second.Query);
                Assert.Equal($"Bearer {VertexToken}", second.Header("authorization"));
            });
    }

    [Fact]
    public async Task A_Gemini_client_passes_through_to_Vertex_byte_for_byte()
    {
        await StartAsync(serviceAccount: true, apiKey: false);
        var body = """{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"temperature":0.2}}""";

        using var response = await _server!.PostJsonAsync($"/v1beta/models/{Model}:generateContent", body);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(Answer, await response.Content.ReadAsStringAsync());
        var call = Assert.Single(ModelCalls);
        Assert.Equal(RegionalPath + ":generateContent", call.Path);
        Assert.Equal($"Bearer {VertexToken}", call.Header("authorization"));
        Assert.Equal("hi", (string?)call.Json!["contents"]![0]!["parts"]![0]!["text"]);
        Assert.Equal(0.2, (double)call.Json!["generationConfig"]!["temperature"]!);
    }

    [Fact]
    public async Task A_vertex_api_key_entry_is_served_at_the_gateway_path_with_x_goog_api_key()
    {
        await StartAsync(serviceAccount: false, apiKey: true);

        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hi from Vertex", completion.Content[0].Text);
        var call = Assert.Single(ModelCalls);
        Assert.Equal($"/gateway/v1/publishers/google/models/{Model}:generateContent", call.Path);
        Assert.Equal(GatewayKey, call.Header("x-goog-api-key"));
        Assert.Null(call.Header("authorization"));
        Assert.Empty(TokenCalls);
    }

    private (Terminal Terminal, StringWriter Out, StringWriter Error, string Config, string AuthDir) Cli()
    {
        var authDir = Path.Combine(_dir, "auths");
        var config = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(config, $"auth-dir: \"{authDir}\"\nplugins:\n  folder: \"{Path.Combine(AppContext.BaseDirectory, "plugins")}\"\n");
        var output = new StringWriter();
        var error = new StringWriter();
        return (new Terminal { Out = output, Error = error, ReadLine = _ => Task.FromResult<string?>(null) }, output, error, config, authDir);
    }

    [Fact]
    public async Task Import_vertex_writes_the_credential_file_with_mode_0600_and_no_network()
    {
        var (terminal, output, error, config, authDir) = Cli();
        var keyFile = Path.Combine(_dir, "sa.json");
        await File.WriteAllTextAsync(keyFile, ServiceAccountKey().ToJsonString());

        Assert.Equal(0, await Commands.RunAsync(["import", "vertex", keyFile, "--location", Location, "--config", config], terminal));

        Assert.Equal("", error.ToString());
        var path = Path.Combine(authDir, $"vertex-{Project}.json");
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal("vertex", (string?)saved["type"]);
        Assert.Equal(Project, (string?)saved["project_id"]);
        Assert.Equal(Location, (string?)saved["location"]);
        Assert.Equal(Email, (string?)saved["email"]);
        Assert.Equal(Email, (string?)saved["service_account"]!["client_email"]);
        using (var imported = RSA.Create())
        {
            imported.ImportFromPem((string)saved["service_account"]!["private_key"]!);
            Assert.Equal(_key.ExportRSAPublicKey(), imported.ExportRSAPublicKey());
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFiles(authDir));
        Assert.DoesNotContain("PRIVATE KEY", output.ToString());
        Assert.Empty(_google.Requests);
    }

    [Fact]
    public async Task A_key_file_without_private_key_writes_nothing()
    {
        var (terminal, _, error, config, authDir) = Cli();
        var keyFile = Path.Combine(_dir, "sa.json");
        await File.WriteAllTextAsync(keyFile, ServiceAccountKey(withPrivateKey: false).ToJsonString());

        Assert.Equal(1, await Commands.RunAsync(["login", "vertex", "--key-file", keyFile, "--config", config], terminal));

        Assert.Contains("has no private_key", error.ToString());
        Assert.False(Directory.Exists(authDir) && Directory.EnumerateFileSystemEntries(authDir).Any());
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }
}
