using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Upstream;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Upstream;

public sealed class HttpClientPoolTests
{
    [Fact]
    public void One_client_per_distinct_proxy_and_the_credential_setting_wins_over_the_global_one()
    {
        using var pool = new HttpClientPool();
        var direct = pool.For(null, null);
        Assert.Same(direct, pool.For("", null));
        var global = pool.For(null, "http://127.0.0.1:3128");
        Assert.NotSame(direct, global);
        Assert.Same(global, pool.For("  ", "http://127.0.0.1:3128"));
        var own = pool.For("socks5://127.0.0.1:1080", "http://127.0.0.1:3128");
        Assert.NotSame(global, own);
        for (var i = 0; i < 50; i++) pool.For("socks5://127.0.0.1:1080", null);
        Assert.Equal(3, pool.Count);
    }

    [Fact]
    public async Task Cookies_an_upstream_sets_are_not_kept_and_a_cookie_a_plugin_sends_goes_out_as_given()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var seen = new List<string>();
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var stream = new NetworkStream(socket);
            for (var i = 0; i < 2; i++)
            {
                var head = new StringBuilder();
                var one = new byte[1];
                while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1) head.Append((char)one[0]);
                lock (seen) seen.Add(head.ToString());
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nSet-Cookie: session=account-a; Path=/\r\nContent-Length: 2\r\n\r\n{}"));
            }
        });
        using var pool = new HttpClientPool();
        var client = pool.Get(HttpClientPool.Direct);
        (await client.GetAsync($"http://127.0.0.1:{port}/first")).Dispose();
        using var second = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/second");
        second.Headers.Add("Cookie", "own=value");
        (await client.SendAsync(second)).Dispose();
        await server.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, seen.Count);
        Assert.DoesNotContain("account-a", seen[1]);
        Assert.Contains("Cookie: own=value\r\n", seen[1]);
    }

    [Fact]
    public async Task Http_proxy_carries_the_request()
    {
        await using var proxy = new HttpForwardProxy();
        using var pool = new HttpClientPool();
        using var response = await pool.Get($"http://127.0.0.1:{proxy.Port}").GetAsync("http://upstream.invalid/v1/models");
        Assert.Equal("via-proxy", System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        Assert.Equal("GET http://upstream.invalid/v1/models HTTP/1.1", Assert.Single(proxy.Seen));
    }

    [Fact]
    public async Task Socks5_proxy_relays_to_the_target()
    {
        await using var target = new HttpForwardProxy(); // any HTTP server on loopback will do as the target
        await using var proxy = new Socks5Proxy();
        using var pool = new HttpClientPool();
        using var response = await pool.Get($"socks5://127.0.0.1:{proxy.Port}").GetAsync($"http://127.0.0.1:{target.Port}/v1/models");
        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal($"127.0.0.1:{target.Port}", Assert.Single(proxy.Seen));
        Assert.Equal(1, target.Connections);
    }
}
