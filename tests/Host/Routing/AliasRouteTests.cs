using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using PluginProxy.Host.Endpoints;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Routing;

public sealed class AliasRouteTests
{
    private const string ChatBody = """{"model":"client-model","messages":[{"role":"user","content":"hi"}]}""";
    private const string AliasPath = "/api/provider/fake-openai/v1/chat/completions";

    [Fact]
    public async Task Alias_is_served_by_the_chat_endpoint_while_the_plugin_is_loaded_and_is_gone_once_its_folder_is_deleted()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        await using var server = await RoutingTestServer.StartAsync(upstream);
        var routerContext = WeakContextOf(server.Server.Plugins.Current, TestRouterPlugin.Name);

        upstream.Enqueue(ChatReply.Text("via alias"));
        using (var response = await server.PostJsonAsync(AliasPath, ChatBody))
        {
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("via alias", (string?)body["choices"]![0]!["message"]!["content"]);
        }
        var seen = Assert.Single(upstream.ChatRequests);
        Assert.Equal(RoutingTestServer.UpstreamModel, (string?)seen.Json!["model"]);
        Assert.Equal("Bearer sk-upstream-routing", seen.Header("Authorization"));

        // The {provider} route value reaches the router, which pins it: no credential of that provider serves the model.
        using (var pinned = await server.PostJsonAsync("/api/provider/someone-else/v1/chat/completions", ChatBody))
        {
            Assert.Equal(404, (int)pinned.StatusCode);
            Assert.Contains("model_not_found", await pinned.Content.ReadAsStringAsync());
        }
        Assert.Single(upstream.ChatRequests);

        Directory.Delete(Path.Combine(server.PluginsFolder, TestRouterPlugin.Name), recursive: true);

        // Polled with the listing alias, which reaches no upstream while it still exists.
        await TestServer.EventuallyAsync(async () =>
        {
            using var listing = await server.Client.GetAsync("/api/provider/fake-openai/v1/models");
            return (int)listing.StatusCode == 404;
        }, "the plugin's routes disappear");
        using (var gone = await server.PostJsonAsync(AliasPath, ChatBody))
            Assert.Equal(404, (int)gone.StatusCode);
        Assert.Single(upstream.ChatRequests); // the 404 came from routing: nothing reached the upstream
        upstream.Enqueue(ChatReply.Text("plain"));
        using (var plain = await server.PostJsonAsync("/v1/chat/completions", ChatBody))
            Assert.Equal(200, (int)plain.StatusCode);

        // Nothing the routes left behind (endpoints, matcher caches) keeps the router's load context alive.
        await TestServer.EventuallyAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Task.FromResult(!routerContext.IsAlive);
        }, "the router's load context is collected");
    }

    [Fact]
    public async Task Aliases_reach_gemini_actions_and_the_model_listings_and_require_the_client_key_outside_the_protected_prefixes()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        await using var server = await RoutingTestServer.StartAsync(upstream);

        upstream.Enqueue(ChatReply.Text("gemini via alias"));
        using (var gemini = await server.PostJsonAsync("/api/provider/fake-openai/v1beta/models/client-model:generateContent",
                   """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""))
        {
            var body = await gemini.Content.ReadAsStringAsync();
            Assert.Equal(200, (int)gemini.StatusCode);
            Assert.Contains("gemini via alias", body);
        }
        Assert.Equal(RoutingTestServer.UpstreamModel, (string?)Assert.Single(upstream.ChatRequests).Json!["model"]);

        var openai = await server.GetJsonAsync("/api/provider/fake-openai/v1/models");
        Assert.Equal([RoutingTestServer.ClientModel], openai["data"]!.AsArray().Select(m => (string)m!["id"]!));
        var anthropic = await server.GetJsonAsync("/api/provider/fake-openai/anthropic/models");
        Assert.Equal(RoutingTestServer.ClientModel, (string?)anthropic["first_id"]);
        var one = await server.GetJsonAsync("/api/provider/fake-openai/v1beta/models/client-model");
        Assert.Equal("models/client-model", (string?)one["name"]);

        // /custom is not under /v1, /v1beta or /api/provider: the alias still takes the client key.
        using var anonymous = new HttpClient { BaseAddress = server.Address };
        using (var refused = await anonymous.PostAsync("/custom/v1/chat/completions", new StringContent(ChatBody, System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(401, (int)refused.StatusCode);
        upstream.Enqueue(ChatReply.Text("custom"));
        using (var accepted = await server.PostJsonAsync("/custom/v1/chat/completions", ChatBody))
        {
            Assert.Equal(200, (int)accepted.StatusCode);
            Assert.Contains("custom", await accepted.Content.ReadAsStringAsync());
        }

        // A second router that claims the first one's path (and has a broken pattern) adds only what is free.
        TestPluginCompiler.Deploy(server.PluginsFolder, "SecondRouter", TestRouterPlugin.CompileSecond());
        await TestServer.EventuallyAsync(async () =>
        {
            using var second = await server.Client.GetAsync("/second/v1/models");
            return (int)second.StatusCode == 200;
        }, "the second router's route is served");
        Assert.Contains("Routing plugin second-router: route /api/provider/{provider}/v1/chat/completions ignored: another routing plugin already serves this path", server.Logs);
        Assert.Contains("Routing plugin second-router: route /second/{unclosed ignored", server.Logs);
        upstream.Enqueue(ChatReply.Text("still the first"));
        using (var first = await server.PostJsonAsync("/api/provider/fake-openai/v1/chat/completions", ChatBody))
        {
            Assert.Equal(200, (int)first.StatusCode);
            // Chat completions' shape, not the second router's Anthropic messages.
            var body = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
            Assert.Equal("still the first", (string?)body["choices"]![0]!["message"]!["content"]);
        }
    }

    [Theory]
    [InlineData("gemini-2.5-pro:generateContent", "gemini-2.5-pro", "generateContent")]
    [InlineData("models/gemini-2.5-pro:streamGenerateContent", "gemini-2.5-pro", "streamGenerateContent")]
    [InlineData("/models/gemini-2.5-pro:countTokens", "gemini-2.5-pro", "countTokens")]
    [InlineData("publishers/google/models/gemini-2.5-pro:generateContent", "gemini-2.5-pro", "generateContent")]
    [InlineData("team/gemini-2.5-pro:generateContent", "team/gemini-2.5-pro", "generateContent")]
    [InlineData("models/:generateContent", "", "generateContent")]
    public void Gemini_action_splits_into_model_and_method(string action, string model, string method) =>
        Assert.Equal((model, method), InferenceEndpoints.SplitAction(action));

    // Separate, non-inlined method so no strong reference to the context survives in the test's frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference WeakContextOf(PluginSet set, string name) => new(set.Plugins.Single(p => p.Name == name).LoadContext);
}
