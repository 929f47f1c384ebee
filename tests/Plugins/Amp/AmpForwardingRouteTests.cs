using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>Amp's own routes relayed by a real server to a fake ampcode.com on loopback (under <c>/amp-base</c>).</summary>
public sealed class AmpForwardingRouteTests : IAsyncLifetime
{
    private static readonly byte[] GzipAnswer = Gzip("""{"compressed":"answer"}""");

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FakeOpenAIUpstream _openai = null!;
    private FakeUpstreamHost _ampcode = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _ampcode = await FakeUpstreamHost.StartAsync(AnswerAsync);
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _ampcode.DisposeAsync();
        await _openai.DisposeAsync();
    }

    private string Upstream => _ampcode.Root + "amp-base";

    private string Ampcode(string extra = "") => $"""
        ampcode:
          upstream-url: "{Upstream}"
          upstream-api-key: "amp-default"
          upstream-api-keys:
            - upstream-api-key: "amp-for-second-client"
              api-keys: ["{AmpTestServer.OtherClientKey}"]
        {extra}
        """;

    /// <summary><c>.../stream</c> holds its second event until released; <c>.../gzip</c> answers gzip; the rest echoes.</summary>
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
        if (request.Path.EndsWith("/gzip", StringComparison.Ordinal))
        {
            http.Response.ContentType = "application/json";
            http.Response.Headers.ContentEncoding = "gzip";
            await http.Response.Body.WriteAsync(GzipAnswer, http.RequestAborted);
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"amp":"answered"}""", http.RequestAborted);
    }

    [Fact]
    public async Task The_clients_proxy_key_is_replaced_by_its_amp_key_and_scrubbed_from_headers_and_query()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        using var second = new HttpClient { BaseAddress = server.Address };

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/threads/t-1?keep=1&key={AmpTestServer.ClientKey}&auth_token=x&last=a%20b")
               { Content = new StringContent("""{"thread":1}""", Encoding.UTF8, "application/json") })
        {
            request.Headers.TryAddWithoutValidation("X-Goog-Api-Key", AmpTestServer.ClientKey);
            request.Headers.TryAddWithoutValidation("Anthropic-Beta", "some-beta");
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("""{"amp":"answered"}""", await response.Content.ReadAsStringAsync());
        }
        second.DefaultRequestHeaders.TryAddWithoutValidation("x-api-key", AmpTestServer.OtherClientKey);
        using (var response = await second.GetAsync("/api/user"))
            Assert.Equal(200, (int)response.StatusCode);

        var first = _ampcode.Requests[0];
        Assert.Equal("/amp-base/api/threads/t-1", first.Path);
        Assert.Equal("?keep=1&last=a%20b", first.Query);
        Assert.Equal("""{"thread":1}""", first.BodyText);
        Assert.Equal("Bearer amp-default", first.Header("Authorization"));
        Assert.Equal("amp-default", first.Header("X-Api-Key"));
        Assert.Null(first.Header("X-Goog-Api-Key"));
        Assert.Equal("some-beta", first.Header("Anthropic-Beta"));
        Assert.Equal(_ampcode.Root.Authority, first.Header("Host"));
        var other = _ampcode.Requests[1];
        Assert.Equal("/amp-base/api/user", other.Path);
        Assert.Equal("Bearer amp-for-second-client", other.Header("Authorization"));
        Assert.Equal("amp-for-second-client", other.Header("X-Api-Key"));
        Assert.DoesNotContain(_ampcode.Requests, r => r.Headers.Values.Any(v => v.Contains(AmpTestServer.ClientKey) || v.Contains(AmpTestServer.OtherClientKey)));
    }

    [Fact]
    public async Task Every_amp_route_is_relayed_and_the_api_ones_need_a_proxy_key()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        string[] paths =
        [
            "/api/internal", "/api/internal/x", "/api/user", "/api/auth/y", "/api/meta", "/api/threads", "/api/telemetry",
            "/api/otel/v1/traces", "/api/tab/z", "/api/ads", "/auth/cli-login", "/threads/t-2", "/docs", "/settings", "/threads.rss", "/news.rss",
            "/api/provider/google/v1beta1/projects/p/locations/l",
        ];
        foreach (var path in paths)
        {
            using var response = await server.Client.GetAsync(path);
            Assert.True((int)response.StatusCode == 200, $"{path}: {(int)response.StatusCode}");
        }
        Assert.Equal(paths.Select(p => "/amp-base" + p), _ampcode.Requests.Select(r => r.Path));

        using var anonymous = new HttpClient { BaseAddress = server.Address };
        using (var refused = await anonymous.GetAsync("/api/threads"))
            Assert.Equal(401, (int)refused.StatusCode);
        using (var page = await anonymous.GetAsync("/threads/t-3"))
            Assert.Equal(200, (int)page.StatusCode);
        // The page went through without the Amp key: the proxy does not know this caller.
        Assert.Null(_ampcode.Requests[^1].Header("Authorization"));
        Assert.Equal(paths.Length + 1, _ampcode.Requests.Count);
    }

    [Fact]
    public async Task Gzip_bodies_are_relayed_as_bytes_both_ways()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        var requestBody = Gzip("""{"telemetry":"events"}""");
        var content = new ByteArrayContent(requestBody);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await server.Client.PostAsync("/api/telemetry/gzip", content);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal(GzipAnswer, await response.Content.ReadAsByteArrayAsync());
        var seen = Assert.Single(_ampcode.Requests);
        Assert.Equal(requestBody, seen.Body);
        Assert.Equal("gzip", seen.Header("Content-Encoding"));
    }

    [Fact]
    public async Task A_stream_is_relayed_as_it_arrives()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());

        using var response = await server.Client.GetAsync("/api/threads/t-1/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        // The upstream holds the second event until the first reached the client.
        Assert.Equal("data: first", await reader.ReadLineAsync());
        _release.SetResult();
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Equal("data: second", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task Without_an_upstream_the_routes_answer_503_until_one_is_configured_and_keys_reload_live()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, """
            ampcode:
              upstream-api-key: "amp-default"
            """);

        using (var response = await server.Client.GetAsync("/api/user"))
        {
            Assert.Equal(503, (int)response.StatusCode);
            Assert.Contains("ampcode.upstream-url", await response.Content.ReadAsStringAsync());
        }
        // Model traffic does not need the upstream (CLIProxyAPI answers 503 on the Vertex-style path here).
        _openai.Enqueue(ChatReply.Text("vertex"));
        using (var vertex = await server.PostJsonAsync("/api/provider/google/v1beta1/publishers/google/models/client-model:generateContent",
                   """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""))
            Assert.Equal(200, (int)vertex.StatusCode);

        await server.WriteConfigAsync(AmpTestServer.Config(_openai, Ampcode()));
        await TestServer.EventuallyAsync(async () =>
        {
            using var response = await server.Client.GetAsync("/api/user");
            return (int)response.StatusCode == 200;
        }, "the new upstream-url is used");
        Assert.Equal("Bearer amp-default", _ampcode.Requests[^1].Header("Authorization"));

        await server.WriteConfigAsync(AmpTestServer.Config(_openai, Ampcode().Replace("amp-default", "amp-rotated")));
        await TestServer.EventuallyAsync(async () =>
        {
            using var response = await server.Client.GetAsync("/api/user");
            return _ampcode.Requests[^1].Header("Authorization") == "Bearer amp-rotated";
        }, "the new upstream-api-key is used");
        Assert.DoesNotContain("amp-rotated", server.Logs);
        Assert.DoesNotContain("amp-default", server.Logs);
    }

    [Fact]
    public async Task Restricted_to_localhost_a_loopback_caller_passes_whatever_it_claims_to_be()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode("  restrict-management-to-localhost: true"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/user");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Single(_ampcode.Requests);
    }

    [Fact]
    public async Task Restricted_to_localhost_a_caller_on_another_address_is_refused_even_claiming_loopback()
    {
        // A real non-loopback peer: the server listens on this machine's own non-loopback address and is called there.
        var address = NonLoopbackAddress();
        Assert.True(address is not null, "this machine has no non-loopback IPv4 address; AmpForwardingDecisionTests covers the decision");
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode("  restrict-management-to-localhost: \"true\""), host: address!.ToString());
        Assert.Equal(address.ToString(), server.Address.Host);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/user");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "127.0.0.1");
        request.Headers.TryAddWithoutValidation("X-Real-IP", "127.0.0.1");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("restricted to localhost", await response.Content.ReadAsStringAsync());
        Assert.Empty(_ampcode.Requests);
        // The model paths are not management routes.
        using var models = await server.Client.GetAsync("/api/provider/openai/models");
        Assert.Equal(200, (int)models.StatusCode);
    }

    private static IPAddress? NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }
}
