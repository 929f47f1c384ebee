using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Upstream;

/// <summary>
/// The host's concerns reach the upstream whatever the executor implements: a plugin whose executor ignores payload
/// rules and credential headers (RawExecutorPlugin) still sends them. Request-scoped failures cool nothing.
/// </summary>
public sealed class AttemptHandlerTests
{
    private const string ClientKey = "client-key-raw";

    private static async Task<(TestServer Server, FakeOpenAIUpstream Upstream)> StartAsync()
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        upstream.RespondWith(request => ChatReply.Text("raw answer"));
        var config = $"""
            api-keys: ["{ClientKey}"]
            openai-compatibility:
              - name: "rawpool"
                base-url: "{upstream.BaseUrl}"
                headers:
                  X-Team: "blue"
                  Authorization: "Bearer from-config"
                api-key-entries:
                  - api-key: "sk-raw-key"
                models:
                  - {"{"}name: "up-raw", alias: "raw"{"}"}
            payload:
              override:
                - models: [{"{"}name: "up-raw"{"}"}]
                  params:
                    "temperature": 0.25
            """;
        var server = await TestServer.StartAsync(config, root =>
        {
            var folder = Path.Combine(root, "plugins", "TestRaw");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "TestRaw.dll"), RawExecutorPlugin.Compile());
        }, clientKey: ClientKey);
        return (server, upstream);
    }

    [Fact]
    public async Task A_custom_executor_that_ignores_payload_rules_and_headers_still_gets_them_applied()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;

        using var response = await server.PostJsonAsync("/v1/chat/completions", """{"model":"raw","messages":[{"role":"user","content":"hello"}]}""");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("raw answer", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]);

        var sent = Assert.Single(upstream.ChatRequests);
        Assert.Equal("blue", sent.Header("X-Team"));
        Assert.Equal("Bearer from-config", sent.Header("Authorization")); // the configured header wins over the plugin's
        Assert.Equal(0.25, (double?)sent.Json!["temperature"]);
        Assert.Equal("up-raw", (string?)sent.Json["model"]);
    }

    [Fact]
    public async Task A_failed_token_count_and_a_plugin_bug_fail_their_request_only_and_cool_nothing()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;

        using var count = await server.PostJsonAsync("/v1/messages/count_tokens", """{"model":"raw","messages":[{"role":"user","content":"hello"}]}""");
        Assert.Equal(429, (int)count.StatusCode);
        Assert.Equal("error", (string?)JsonNode.Parse(await count.Content.ReadAsStringAsync())!["type"]);

        using var bug = await server.PostJsonAsync("/v1/chat/completions", """{"model":"raw","messages":[{"role":"user","content":"boom"}]}""");
        Assert.Equal(502, (int)bug.StatusCode);
        Assert.Contains("raw", (string?)JsonNode.Parse(await bug.Content.ReadAsStringAsync())!["error"]!["message"]);

        // The only account is still in rotation: no 429 "cooling" answer.
        using var after = await server.PostJsonAsync("/v1/chat/completions", """{"model":"raw","messages":[{"role":"user","content":"hello"}]}""");
        Assert.Equal(200, (int)after.StatusCode);
    }
}
