using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Routing;

/// <summary>
/// <c>RouteDecision.Forward</c> on the built-in inference routes: a router compiled at test time forwards models named
/// <c>forward-*</c> to <c>providers.forward-router.upstream-url</c> (reporting what its <c>RouteContext</c> said in
/// <c>X-Seen-*</c> headers) and refuses <c>refuse-*</c> with 451; any other model is served by the local account.
/// </summary>
public sealed class RouteForwardTests : IAsyncLifetime
{
    private const string ClientKey = "client-key-forward";

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FakeOpenAIUpstream _openai = null!;
    private FakeUpstreamHost _elsewhere = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _openai.RespondWith(_ => ChatReply.Text("local"));
        _elsewhere = await FakeUpstreamHost.StartAsync(AnswerAsync);
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _elsewhere.DisposeAsync();
        await _openai.DisposeAsync();
    }

    private async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.BodyText.Contains("\"stream\":true"))
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: first\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            await _release.Task.WaitAsync(http.RequestAborted);
            await http.Response.WriteAsync("data: second\n\n", http.RequestAborted);
            return;
        }
        http.Response.StatusCode = 202;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"elsewhere":"answered"}""", http.RequestAborted);
    }

    private Task<TestServer> StartAsync(string? upstream = null) => TestServer.StartAsync($"""
        api-keys: ["{ClientKey}"]
        providers:
          forward-router:
            upstream-url: "{upstream ?? _elsewhere.Root + "base"}"
        openai-compatibility:
          - name: "fake-openai"
            base-url: "{_openai.BaseUrl}"
            api-key-entries:
              - api-key: "sk-upstream-forward"
            models:
              - name: "upstream-model"
                alias: "client-model"
        """,
        prepare: root =>
        {
            var plugins = Path.Combine(root, "plugins");
            var compat = Path.Combine(AppContext.BaseDirectory, "plugins", "PluginProxy.Plugins.OpenAICompat");
            Directory.CreateDirectory(Path.Combine(plugins, "PluginProxy.Plugins.OpenAICompat"));
            foreach (var file in Directory.EnumerateFiles(compat)) File.Copy(file, Path.Combine(plugins, "PluginProxy.Plugins.OpenAICompat", Path.GetFileName(file)));
            TestPluginCompiler.Deploy(plugins, "ForwardRouter", Compile());
        },
        clientKey: ClientKey);

    private static byte[] Compile() => TestPluginCompiler.Compile("ForwardRouter", "1.0.0", """
        using PluginProxy.Abstractions.Plugins;

        namespace ForwardRouter;

        public sealed class Router : IRoutingPlugin
        {
            public string Id => "forward-router";
            public int Order => 0;
            public IReadOnlyList<RouteAlias> Routes => new RouteAlias[0];

            public RouteDecision Route(RouteContext context)
            {
                if (context.Model.StartsWith("refuse-")) return RouteDecision.ForwardTo(ForwardingDecision.Reject(451, "Refused by forward-router."));
                if (!context.Model.StartsWith("forward-")) return RouteDecision.Unchanged;
                return RouteDecision.ForwardTo(new ForwardingDecision
                {
                    Destination = context.Settings.GetString("upstream-url"),
                    SetHeaders = new Dictionary<string, string>
                    {
                        ["Authorization"] = "Bearer elsewhere-key",
                        ["X-Seen-Client-Key"] = context.ClientKey ?? "none",
                        ["X-Seen-Loopback"] = context.FromLoopback ? "yes" : "no",
                        ["X-Seen-Auth-Header"] = context.AuthHeaders.TryGetValue("authorization", out var auth) ? auth : "none",
                        ["X-Seen-Headers-Have-Auth"] = context.Headers.ContainsKey("authorization") ? "yes" : "no",
                    },
                    RemoveHeaders = new[] { "X-Remove-Me" },
                    RemoveQuery = new[] { "drop" },
                });
            }
        }
        """);

    [Fact]
    public async Task The_request_goes_elsewhere_as_received_with_the_decisions_edits()
    {
        await using var server = await StartAsync();
        const string body = """{"model":"forward-model","messages":[{"role":"user","content":"hi"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/chat/completions?keep=1&drop=2&key={ClientKey}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-Remove-Me", "x");
        request.Headers.TryAddWithoutValidation("X-Keep-Me", "kept");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(202, (int)response.StatusCode);
        Assert.Equal("""{"elsewhere":"answered"}""", await response.Content.ReadAsStringAsync());
        var seen = Assert.Single(_elsewhere.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/base/v1/chat/completions", seen.Path);
        Assert.Equal("?keep=1", seen.Query);
        Assert.Equal(body, seen.BodyText);
        Assert.Equal("Bearer elsewhere-key", seen.Header("Authorization"));
        Assert.Equal("kept", seen.Header("X-Keep-Me"));
        Assert.Null(seen.Header("X-Remove-Me"));
        // What the router was told.
        Assert.Equal(ClientKey, seen.Header("X-Seen-Client-Key"));
        Assert.Equal("yes", seen.Header("X-Seen-Loopback"));
        Assert.Equal("Bearer " + ClientKey, seen.Header("X-Seen-Auth-Header"));
        Assert.Equal("no", seen.Header("X-Seen-Headers-Have-Auth"));
        Assert.Empty(_openai.ChatRequests);
    }

    [Fact]
    public async Task A_stream_from_elsewhere_is_relayed_as_it_arrives()
    {
        await using var server = await StartAsync();

        using var response = await server.PostJsonAsync("/v1/messages",
            """{"model":"forward-model","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("data: first", await reader.ReadLineAsync());
        Assert.False(_release.Task.IsCompleted);
        _release.SetResult();
        Assert.Equal("\ndata: second\n\n", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_refusal_and_an_unreachable_destination_answer_in_the_clients_dialect()
    {
        await using var server = await StartAsync(upstream: "http://127.0.0.1:9/");

        using (var refused = await server.PostJsonAsync("/v1/messages", """{"model":"refuse-model","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"""))
        {
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal(451, (int)refused.StatusCode);
            Assert.Equal("error", (string?)error["type"]); // Anthropic's error shape
            Assert.Equal("Refused by forward-router.", (string?)error["error"]!["message"]);
        }
        using (var failed = await server.PostJsonAsync("/v1beta/models/forward-model:generateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""))
        {
            var error = JsonNode.Parse(await failed.Content.ReadAsStringAsync())!;
            Assert.Equal(502, (int)failed.StatusCode);
            Assert.Equal(502, (int)error["error"]!["code"]!); // Gemini's error shape
        }
        Assert.Empty(_elsewhere.Requests);
        Assert.Empty(_openai.ChatRequests);
    }

    [Fact]
    public async Task Other_models_are_served_locally()
    {
        await using var server = await StartAsync();

        using var response = await server.PostJsonAsync("/v1/chat/completions", """{"model":"client-model","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Single(_openai.ChatRequests);
        Assert.Empty(_elsewhere.Requests);
    }
}
