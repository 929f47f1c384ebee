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
