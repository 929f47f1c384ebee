using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>Amp's <c>/api/provider/{provider}/...</c> paths on a real server, served by a local OpenAI-compatible fake account.</summary>
public sealed class AmpProviderRouteTests : IAsyncLifetime
{
    private const string Mappings = """
        ampcode:
          model-mappings:
            - from: "claude-opus-4-5"
              to: "client-model"
            - from: "^gemini-3-"
              to: "client-model"
              regex: "true"
        """;

    private FakeOpenAIUpstream _openai = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _openai.RespondWith(_ => ChatReply.Text("local answer"));
        _server = await AmpTestServer.StartAsync(_openai, Mappings);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _openai.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/provider/anthropic/models", "anthropic")]
    [InlineData("/api/provider/anthropic/v1/models", "anthropic")]
    [InlineData("/api/provider/google/models", "gemini")]
    [InlineData("/api/provider/google/v1/models", "gemini")]
    [InlineData("/api/provider/openai/models", "openai")]
    [InlineData("/api/provider/groq/v1/models", "openai")]
    [InlineData("/api/provider/openai/v1beta/models", "gemini")]
    public async Task Listings_take_the_shape_the_provider_segment_names(string path, string shape)
    {
        var listing = await _server.GetJsonAsync(path);

        switch (shape)
        {
            case "anthropic":
                Assert.Equal(AmpTestServer.ClientModel, (string?)listing["first_id"]);
                Assert.Equal("model", (string?)listing["data"]![0]!["type"]);
                Assert.False((bool)listing["has_more"]!);
                break;
            case "gemini":
                Assert.Equal("models/" + AmpTestServer.ClientModel, (string?)listing["models"]![0]!["name"]);
                Assert.Null(listing["data"]);
                break;
            default:
                Assert.Equal("list", (string?)listing["object"]);
                Assert.Equal(AmpTestServer.ClientModel, (string?)listing["data"]![0]!["id"]);
                break;
        }
    }

    [Fact]
    public async Task One_gemini_model_is_described()
    {
        var model = await _server.GetJsonAsync("/api/provider/google/v1beta/models/" + AmpTestServer.ClientModel);

        Assert.Equal("models/" + AmpTestServer.ClientModel, (string?)model["name"]);
    }

    public static TheoryData<string, string, string> InferencePaths => new()
    {
        { "/api/provider/openai/chat/completions", ChatBody("client-model"), "local answer" },
        { "/api/provider/openai/v1/chat/completions", ChatBody("client-model"), "local answer" },
        { "/api/provider/openai/completions", """{"model":"client-model","prompt":"hi"}""", "local answer" },
        { "/api/provider/openai/v1/completions", """{"model":"client-model","prompt":"hi"}""", "local answer" },
        { "/api/provider/openai/responses", """{"model":"client-model","input":"hi"}""", "local answer" },
        { "/api/provider/openai/v1/responses", """{"model":"client-model","input":"hi"}""", "local answer" },
        // The provider segment does not restrict which accounts serve: an OpenAI-compatible account answers "anthropic".
        { "/api/provider/anthropic/v1/messages", MessagesBody("client-model"), "local answer" },
        { "/api/provider/google/v1beta/models/client-model:generateContent", GeminiBody, "local answer" },
        { "/api/provider/google/v1beta1/publishers/google/models/client-model:generateContent", GeminiBody, "local answer" },
    };

    [Theory]
    [MemberData(nameof(InferencePaths))]
    public async Task Inference_paths_are_served_by_the_local_account(string path, string body, string expected)
    {
        using var response = await _server.PostJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == 200, text);
        Assert.Contains(expected, text);
        Assert.Equal(AmpTestServer.UpstreamModel, (string?)Assert.Single(_openai.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task Count_tokens_is_answered_locally()
    {
        using var response = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages/count_tokens", MessagesBody("client-model"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == 200, text);
        Assert.True((int)JsonNode.Parse(text)!["input_tokens"]! > 0);
    }

    [Fact]
    public async Task A_claude_model_nobody_serves_is_mapped_and_the_answer_carries_the_name_amp_asked_for()
    {
        using var response = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("claude-opus-4-5"));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("claude-opus-4-5", (string?)answer["model"]);
        Assert.Equal("local answer", (string?)answer["content"]![0]!["text"]);
        Assert.Equal(AmpTestServer.UpstreamModel, (string?)Assert.Single(_openai.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task A_mapped_stream_keeps_the_requested_name_with_its_thinking_suffix()
    {
        var body = MessagesBody("claude-opus-4-5(high)").Replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\"");
        using var response = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("\"model\":\"claude-opus-4-5(high)\"", text);
        Assert.Contains("local answer", text);
        Assert.Equal(AmpTestServer.UpstreamModel, (string?)Assert.Single(_openai.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task A_regex_mapping_serves_a_gemini_model_named_in_the_url()
    {
        using var response = await _server.PostJsonAsync("/api/provider/google/v1beta/models/gemini-3-pro-preview:generateContent", GeminiBody);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("gemini-3-pro-preview", (string?)answer["modelVersion"]);
        Assert.Equal(AmpTestServer.UpstreamModel, (string?)Assert.Single(_openai.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task A_model_nothing_serves_or_maps_is_refused_locally()
    {
        using var response = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("claude-unserved-1"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("claude-unserved-1", text);
        Assert.Empty(_openai.ChatRequests);
    }

    [Fact]
    public async Task Mappings_are_read_live_from_the_config()
    {
        using (var before = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("claude-sonnet-9")))
            Assert.Equal(404, (int)before.StatusCode);

        await _server.WriteConfigAsync(AmpTestServer.Config(_openai, """
            ampcode:
              model-mappings:
                - from: "claude-sonnet-9"
                  to: "client-model"
            """));

        await TestServer.EventuallyAsync(async () =>
        {
            using var after = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("claude-sonnet-9"));
            return (int)after.StatusCode == 200 && (await after.Content.ReadAsStringAsync()).Contains("\"model\":\"claude-sonnet-9\"");
        }, "the new mapping serves claude-sonnet-9");
        // The old mappings went with the old config.
        using var dropped = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("claude-opus-4-5"));
        Assert.Equal(404, (int)dropped.StatusCode);
    }

    [Fact]
    public async Task Removing_the_plugin_folder_removes_its_routes_without_a_restart()
    {
        using (var listed = await _server.Client.GetAsync("/api/provider/openai/models"))
            Assert.Equal(200, (int)listed.StatusCode);
        // A routed request parses (and caches) the ampcode settings; nothing of that may keep the plugin loaded.
        using (var routed = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("client-model")))
            Assert.Equal(200, (int)routed.StatusCode);
        var ampContext = WeakContextOfAmp();

        Directory.Delete(Path.Combine(_server.PluginsFolder, AmpPlugin.FolderName), recursive: true);

        await TestServer.EventuallyAsync(async () =>
        {
            using var listing = await _server.Client.GetAsync("/api/provider/openai/models");
            return (int)listing.StatusCode == 404;
        }, "the Amp routes disappear");
        using (var threads = await _server.Client.GetAsync("/api/threads"))
            Assert.Equal(404, (int)threads.StatusCode);
        using (var messages = await _server.PostJsonAsync("/api/provider/anthropic/v1/messages", MessagesBody("client-model")))
            Assert.Equal(404, (int)messages.StatusCode);
        // The built-in routes still serve.
        using var builtIn = await _server.PostJsonAsync("/v1/chat/completions", ChatBody("client-model"));
        Assert.Equal(200, (int)builtIn.StatusCode);

        await TestServer.EventuallyAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Task.FromResult(!ampContext.IsAlive);
        }, "the removed Amp plugin's load context is collected");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference WeakContextOfAmp() =>
        new(_server.Server.Plugins.Current.Plugins.Single(p => p.Name == AmpPlugin.FolderName).LoadContext);

    private static string ChatBody(string model) => $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";

    private static string MessagesBody(string model) => $$"""{"model":"{{model}}","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""";

    private const string GeminiBody = """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""";
}
