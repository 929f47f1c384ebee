using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Routing;

/// <summary>The test router's forwarding route <c>/api/threads/{**rest}</c>, relayed to a fake upstream under <c>/base</c>.</summary>
public sealed class ForwardingRouteTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FakeOpenAIUpstream _openai = null!;
    private FakeUpstreamHost _forwardUpstream = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _forwardUpstream = await FakeUpstreamHost.StartAsync(AnswerAsync);
        _server = await RoutingTestServer.StartAsync(_openai, _forwardUpstream.Root + "base");
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _server.DisposeAsync();
        await _forwardUpstream.DisposeAsync();
        await _openai.DisposeAsync();
    }

    /// <summary><c>.../stream</c> writes a first event, then waits for the test's signal before the second; anything else echoes JSON.</summary>
    private async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path.EndsWith("/stream", StringComparison.Ordinal))
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: first\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            await _release.Task.WaitAsync(http.RequestAborted);
            await http.Response.WriteAsync("data: second\n\n", http.RequestAborted);
            return;
        }
        http.Response.StatusCode = 201;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"upstream":"answered"}""", http.RequestAborted);
    }

    [Fact]
    public async Task Request_is_relayed_with_the_plugins_headers_and_without_the_clients_key()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/threads/t-1?keep=1&drop=2&key=" + RoutingTestServer.ClientKey + "&last=a%20b")
        {
            Content = new StringContent("""{"thread":"body"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-goog-api-key", RoutingTestServer.ClientKey);
        request.Headers.TryAddWithoutValidation("x-api-key", RoutingTestServer.ClientKey);
        request.Headers.TryAddWithoutValidation("X-Remove-Me", "please");
        request.Headers.TryAddWithoutValidation("X-Keep-Me", "kept");
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("""{"upstream":"answered"}""", await response.Content.ReadAsStringAsync());
        var seen = Assert.Single(_forwardUpstream.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/base/api/threads/t-1", seen.Path);
        Assert.Equal("?keep=1&last=a%20b", seen.Query);
        Assert.Equal("""{"thread":"body"}""", seen.BodyText);
        Assert.Equal("application/json; charset=utf-8", seen.Header("Content-Type"));
        Assert.Equal(TestRouterPlugin.UpstreamKey, seen.Header("X-Upstream-Key"));
        Assert.Equal("kept", seen.Header("X-Keep-Me"));
        Assert.Null(seen.Header("X-Remove-Me"));
        Assert.Null(seen.Header("Authorization"));
        Assert.Null(seen.Header("x-goog-api-key"));
        Assert.Null(seen.Header("x-api-key"));
        Assert.Equal(_forwardUpstream.Root.Authority, seen.Header("Host"));
        // What the plugin was told: the route, the authenticated client key, and the client's headers with its auth header.
        Assert.Equal("threads", seen.Header("X-Seen-Route"));
        Assert.Equal("POST", seen.Header("X-Seen-Method"));
        Assert.Equal(RoutingTestServer.ClientKey, seen.Header("X-Seen-Client-Key"));
        Assert.Equal("Bearer " + RoutingTestServer.ClientKey, seen.Header("X-Seen-Auth-Header"));
    }

    [Fact]
    public async Task A_wrong_key_is_not_refused_by_the_host_but_reaches_the_plugin_as_no_client_key()
    {
        using var client = new HttpClient { BaseAddress = _server.Address };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer not-a-configured-key");
        using var response = await client.GetAsync("/api/threads/t-2");

        Assert.Equal(201, (int)response.StatusCode);
        var seen = Assert.Single(_forwardUpstream.Requests);
        Assert.Equal("none", seen.Header("X-Seen-Client-Key"));
        Assert.Equal("GET", seen.Header("X-Seen-Method"));
        Assert.Null(seen.Header("Authorization"));
    }

    [Fact]
    public async Task FromLoopback_comes_from_the_socket_and_a_spoofed_forwarded_for_does_not_change_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/threads/t-3");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Real-IP", "203.0.113.7");
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("yes", Assert.Single(_forwardUpstream.Requests).Header("X-Seen-Loopback"));
    }

    [Fact]
    public async Task A_rejection_answers_the_plugins_status_as_json_and_reaches_no_upstream()
    {
        using var response = await _server.Client.GetAsync("/api/threads/reject");

        Assert.Equal(403, (int)response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Refused by test-router.", (string?)body["error"]!["message"]);
        Assert.Empty(_forwardUpstream.Requests);
    }

    [Fact]
    public async Task A_streamed_body_is_relayed_as_it_arrives()
    {
        using var response = await _server.Client.GetAsync("/api/threads/t-4/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The upstream holds its second event until the first one has reached the client.
        Assert.Equal("data: first", await reader.ReadLineAsync());
        Assert.False(_release.Task.IsCompleted);
        _release.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.Equal("\ndata: second\n\n", rest);
    }
}

public sealed class ForwardingFailureTests
{
    [Fact]
    public async Task An_unreachable_destination_gives_a_clear_502()
    {
        await using var openai = await FakeOpenAIUpstream.StartAsync();
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        await using var server = await RoutingTestServer.StartAsync(openai, "http://127.0.0.1:9");

        using var response = await server.Client.GetAsync("/api/threads/t-5");

        Assert.Equal(502, (int)response.StatusCode);
        var message = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"];
        Assert.Equal("Forwarding route 'threads' to 127.0.0.1 failed (the upstream could not be reached).", message);
        Assert.Contains("Forwarding route threads to 127.0.0.1 failed", server.Logs);
    }
}
