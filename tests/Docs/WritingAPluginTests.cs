using System.Runtime.Loader;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Docs;

/// <summary>
/// The example plugin of docs/writing-a-plugin.md, compiled from the guide's own text and run against fakes: its login,
/// its executor behind the real server, and its refresh ahead of expiry. A guide that drifts from the SDK fails here.
/// </summary>
public sealed class WritingAPluginTests
{
    private static readonly Lazy<byte[]> Example = new(() => TestPluginCompiler.Compile("Acme", "1.0.0", SourceFromGuide()));

    private static string SourceFromGuide()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "docs", "writing-a-plugin.md"))) dir = Path.GetDirectoryName(dir)!;
        var guide = File.ReadAllText(Path.Combine(dir, "docs", "writing-a-plugin.md"));
        var start = guide.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        return guide[start..guide.IndexOf("```", start, StringComparison.Ordinal)];
    }

    private static IProviderPlugin LoadProvider()
    {
        var context = new AssemblyLoadContext("acme-guide", isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(Example.Value));
        return (IProviderPlugin)Activator.CreateInstance(assembly.GetType("Acme.AcmeProvider")!)!;
    }

    private static PluginSettings Settings(string tokenUrl, string deviceUrl) =>
        new(System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["token-url"] = tokenUrl, ["device-code-url"] = deviceUrl }), default);

    [Fact]
    public async Task The_guides_login_runs_the_device_code_flow_and_returns_a_CLIProxyAPI_shaped_file()
    {
        await using var fake = (await FakeTokenEndpoint.StartAsync()).Enqueue(
            FakeReply.Json(new JsonObject { ["device_code"] = "dc", ["user_code"] = "WXYZ", ["verification_uri"] = "https://acme.example/activate", ["expires_in"] = 600, ["interval"] = 5 }),
            FakeTokenEndpoint.OAuthError(400, "authorization_pending"),
            FakeTokenEndpoint.Tokens("acme-at", "acme-rt", 3600));
        var output = new StringWriter();
        var result = await LoadProvider().Authenticator!.LoginAsync(new LoginContext
        {
            Http = new HttpClient(), Output = output, Clock = new AutoAdvanceClock(), NoBrowser = true,
            Settings = Settings(fake.Url("/token"), fake.Url("/device")),
            Options = new Dictionary<string, string> { ["email"] = "me@example.com" },
        }, CancellationToken.None);

        Assert.Equal("acme-me@example.com.json", result.FileName);
        Assert.Equal("acme", (string?)result.Content["type"]);
        Assert.Equal("acme-at", (string?)result.Content["access_token"]);
        Assert.Equal("acme-rt", (string?)result.Content["refresh_token"]);
        Assert.NotNull((string?)result.Content["expired"]);
        Assert.Contains("WXYZ", output.ToString());
    }

    [Fact]
    public async Task The_guides_plugin_serves_every_dialect_and_refreshes_with_no_request_arriving()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        upstream.RespondWith(request => ChatReply.Text($"acme answered with {request.Header("Authorization")}"));
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens("fresh-token", "rt-2", 3600));
        var expired = DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-ddTHH:mm:ssK"); // inside the 30-minute lead
        var config = $"""
            providers:
              acme:
                api-url: "{upstream.BaseUrl}"
                token-url: "{tokens.Url("/token")}"
            """;
        await using var server = await TestServer.StartAsync(config, root =>
        {
            var folder = Path.Combine(root, "plugins", "Acme");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "Acme.dll"), Example.Value);
            File.WriteAllText(Path.Combine(root, "auths", "acme-me.json"),
                $$"""{"type":"acme","email":"me@example.com","access_token":"old-token","refresh_token":"rt-1","expired":"{{expired}}"}""");
        });

        // The background refresher renews the token ahead of expiry: no request has arrived.
        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(Path.Combine(server.AuthDir, "acme-me.json"))).Contains("fresh-token"),
            "the credential file holds the refreshed token");
        Assert.Equal("rt-1", FakeTokenEndpoint.Form(Assert.Single(tokens.Requests))["refresh_token"]);

        // OpenAI chat passes through; Anthropic is translated. Both use the refreshed token.
        using var chat = await server.PostJsonAsync("/v1/chat/completions", """{"model":"acme-1","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("acme answered with Bearer fresh-token", (string?)JsonNode.Parse(await chat.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]);
        using var messages = await server.PostJsonAsync("/v1/messages", """{"model":"acme-1","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("acme answered with Bearer fresh-token", (string?)JsonNode.Parse(await messages.Content.ReadAsStringAsync())!["content"]![0]!["text"]);

        // Settings reload live: pointing providers.acme.api-url elsewhere moves new requests there, no restart.
        await using var moved = await FakeOpenAIUpstream.StartAsync();
        moved.RespondWith(_ => ChatReply.Text("from the new api-url"));
        await server.WriteConfigAsync(config.Replace(upstream.BaseUrl, moved.BaseUrl));
        await TestServer.EventuallyAsync(async () =>
        {
            using var again = await server.PostJsonAsync("/v1/chat/completions", """{"model":"acme-1","messages":[{"role":"user","content":"hi"}]}""");
            return (await again.Content.ReadAsStringAsync()).Contains("from the new api-url");
        }, "requests follow the reloaded api-url");
    }
}
