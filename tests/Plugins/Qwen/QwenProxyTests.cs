using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Qwen;

/// <summary>
/// A Qwen account served through the real server with the built plugin: every client dialect, streaming and not, a tool
/// loop, Qwen's headers and stream quirks, and count_tokens from the plugin's own tokenizer.
/// </summary>
public sealed class QwenProxyTests
{
    private const string Model = "qwen3-coder-plus";
    private const string AccessToken = "qwen-access-token-1";

    /// <summary>A server whose only credential is a Qwen login with <c>resource_url</c> pointing at the fake.</summary>
    internal static async Task<(TestServer Server, FakeOpenAIUpstream Upstream)> StartAsync(string? resourceUrl = null, string? apiUrl = null)
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        var credential = new JsonObject
        {
            ["type"] = "qwen", ["email"] = "q@example.test", ["access_token"] = AccessToken, ["refresh_token"] = "qwen-refresh",
            ["resource_url"] = resourceUrl ?? upstream.BaseUrl.Replace("/v1", ""),
        };
        // Nothing may reach chat.qwen.ai, not even a refresh.
        var config = $"""
            providers:
              qwen:
                token-url: "{upstream.BaseUrl}/oauth2/token"
            {(apiUrl is null ? "" : $"    api-url: \"{apiUrl}\"")}
            """;
        var server = await TestServer.StartAsync(config,
            root => File.WriteAllText(Path.Combine(root, "auths", "qwen-q@example.test.json"), credential.ToJsonString()),
            pluginsFolder: BuiltPlugins.Folder);
        return (server, upstream);
    }

    public static TheoryData<ClientDialect, bool> Dialects()
    {
        var data = new TheoryData<ClientDialect, bool>();
        foreach (var dialect in Enum.GetValues<ClientDialect>())
        {
            data.Add(dialect, false);
            data.Add(dialect, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task Every_dialect_runs_a_tool_loop_against_a_qwen_account(ClientDialect dialect, bool stream)
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(
            ChatReply.ToolCalls((DialectDriver.CallId, DialectDriver.ToolName, """{"city":"Bern"}""")),
            ChatReply.Text("It is 12 °C", " in Bern."));

        var first = DialectDriver.Read(dialect, stream, await DialectDriver.SendAsync(server, dialect, Model, stream, DialectDriver.Ask(dialect, Model, stream)));
        var second = DialectDriver.Read(dialect, stream, await DialectDriver.SendAsync(server, dialect, Model, stream, DialectDriver.Answer(dialect, Model, stream)));

        Assert.Equal([DialectDriver.ToolName], first.ToolCalls);
        Assert.Equal("It is 12 °C in Bern.", second.Text);
        Assert.Equal(2, upstream.ChatRequests.Count);
        foreach (var request in upstream.ChatRequests)
        {
            Assert.Equal("Bearer " + AccessToken, request.Header("Authorization"));
            Assert.Equal("google-api-nodejs-client/9.15.1", request.Header("User-Agent"));
            Assert.Equal("gl-node/22.17.0", request.Header("X-Goog-Api-Client"));
            Assert.Equal("ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI", request.Header("Client-Metadata"));
            Assert.Equal(Model, (string?)request.Json!["model"]);
            Assert.Equal(stream, (bool?)request.Json["stream"] ?? false);
            if (stream) Assert.True((bool?)request.Json["stream_options"]?["include_usage"]);
            // The client declared a tool, so no placeholder is added.
            Assert.Equal([DialectDriver.ToolName], request.Json["tools"]!.AsArray().Select(t => (string?)t!["function"]!["name"]));
        }
        var messages = upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        var assistant = messages.Single(m => (string?)m!["role"] == "assistant")!;
        var tool = messages.Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal(DialectDriver.ToolName, (string?)assistant["tool_calls"]![0]!["function"]!["name"]);
        Assert.Equal((string?)assistant["tool_calls"]![0]!["id"], (string?)tool["tool_call_id"]);
        Assert.Contains("12", (string?)tool["content"] ?? tool["content"]!.ToJsonString());
    }

    [Theory]
    [InlineData(ClientDialect.Chat)] // passthrough: the client's own bytes, adjusted
    [InlineData(ClientDialect.Anthropic)] // translated
    public async Task A_stream_without_tools_declares_the_placeholder_tool(ClientDialect dialect)
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(ChatReply.Text("Hi"), ChatReply.Text("Hi"));

        var streamed = DialectDriver.Read(dialect, true, await DialectDriver.SendAsync(server, dialect, Model, true, DialectDriver.Ask(dialect, Model, true, tools: false)));
        var plain = DialectDriver.Read(dialect, false, await DialectDriver.SendAsync(server, dialect, Model, false, DialectDriver.Ask(dialect, Model, false, tools: false)));

        Assert.Equal("Hi", streamed.Text);
        Assert.Equal("Hi", plain.Text);
        var tools = upstream.ChatRequests[0].Json!["tools"]!.AsArray();
        Assert.Equal("do_not_call_me", (string?)Assert.Single(tools)!["function"]!["name"]);
        Assert.True((bool?)upstream.ChatRequests[0].Json!["stream_options"]!["include_usage"]);
        Assert.Null(upstream.ChatRequests[1].Json!["tools"]); // only streams need it
    }

    [Fact]
    public async Task The_api_url_setting_wins_over_the_resource_url()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync("/compatible-mode/v1");
        var (server, unused) = await StartAsync(resourceUrl: "127.0.0.1:9", apiUrl: upstream.BaseUrl);
        await using var _ = server;
        await using var __ = unused;
        upstream.Enqueue(ChatReply.Text("via api-url"));

        var answer = DialectDriver.Read(ClientDialect.Chat, false,
            await DialectDriver.SendAsync(server, ClientDialect.Chat, Model, false, DialectDriver.Ask(ClientDialect.Chat, Model, false)));

        Assert.Equal("via api-url", answer.Text);
        Assert.Single(upstream.ChatRequests);
    }

    [Fact]
    public async Task A_429_cools_the_account_and_is_reported_to_the_client()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;
        upstream.Enqueue(FakeReply.Error(429, """{"error":{"message":"Free allocated quota exceeded.","type":"insufficient_quota"}}""",
            new Dictionary<string, string> { ["Retry-After"] = "120" }));

        using var first = await server.PostJsonAsync("/v1/messages", DialectDriver.Ask(ClientDialect.Anthropic, Model, false).ToJsonString());
        using var second = await server.PostJsonAsync("/v1/messages", DialectDriver.Ask(ClientDialect.Anthropic, Model, false).ToJsonString());

        Assert.Equal(429, (int)first.StatusCode);
        Assert.Contains("quota", await first.Content.ReadAsStringAsync());
        // The only account is cooling now: the server answers without calling the upstream again.
        Assert.Equal(429, (int)second.StatusCode);
        Assert.Single(upstream.ChatRequests);
    }

    [Fact]
    public async Task Count_tokens_uses_the_cl100k_tokenizer_inside_the_plugin()
    {
        var (server, upstream) = await StartAsync();
        await using var _ = server;
        await using var __ = upstream;

        using var response = await server.PostJsonAsync("/v1/messages/count_tokens",
            """{"model":"qwen3-coder-plus","messages":[{"role":"user","content":"hello world"}]}""");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        // "hello world" is 2 cl100k tokens; plus 3 for the message and 3 for the reply's priming. (The byte estimate would say 3.)
        Assert.Equal(8, (int)ClientWireObject(body)["input_tokens"]!);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task The_plugin_with_its_tokenizer_loads_in_its_own_context_and_unloads_when_removed()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            CopyDirectory(Path.Combine(BuiltPlugins.Folder, "PluginProxy.Plugins.Qwen"), Path.Combine(root, "plugins", "PluginProxy.Plugins.Qwen"));
            File.WriteAllText(Path.Combine(root, "auths", "qwen.json"), $$"""{"type":"qwen","access_token":"t","resource_url":"{{upstream.BaseUrl}}"}""");
        });
        using (var response = await server.PostJsonAsync("/v1/messages/count_tokens", """{"model":"qwen3-coder-plus","messages":[{"role":"user","content":"hello world"}]}"""))
            Assert.Equal(8, (int)ClientWireObject(await response.Content.ReadAsStringAsync())["input_tokens"]!);
        var context = WeakContextOf(server);
        var unloaded = new System.Collections.Concurrent.ConcurrentQueue<string>();
        server.Server.Plugins.Unloaded += plugin => unloaded.Enqueue(plugin.Name);

        Directory.Delete(Path.Combine(server.PluginsFolder, "PluginProxy.Plugins.Qwen"), recursive: true);

        await TestServer.EventuallyAsync(() => Task.FromResult(!unloaded.IsEmpty), "the plugin is unloaded");
        await TestServer.EventuallyAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Task.FromResult(!context.IsAlive);
        }, "its load context, tokenizer included, is collected");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference WeakContextOf(TestServer server) =>
        new(server.Server.Plugins.Current.Plugins.Single(p => p.Name == "PluginProxy.Plugins.Qwen").LoadContext);

    private static JsonObject ClientWireObject(string body) => JsonNode.Parse(body)!.AsObject();

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
