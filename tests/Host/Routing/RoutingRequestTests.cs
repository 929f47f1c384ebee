using System.Net;
using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Routing;
using PluginProxy.Host.Security;

namespace PluginProxy.Tests.Host.Routing;

public sealed class RoutingRequestTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("203.0.113.7", false)]
    [InlineData("::ffff:203.0.113.7", false)]
    [InlineData("2001:db8::1", false)]
    public void FromLoopback_is_decided_by_the_peer_address(string peer, bool loopback)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        // Forwarding headers claiming the opposite are the client's word, never believed.
        http.Request.Headers["X-Forwarded-For"] = loopback ? "203.0.113.7" : "127.0.0.1";
        http.Request.Headers["Forwarded"] = loopback ? "for=203.0.113.7" : "for=127.0.0.1";

        Assert.Equal(loopback, RoutingRequest.FromLoopback(http));
    }

    [Fact]
    public void No_peer_address_is_not_loopback() => Assert.False(RoutingRequest.FromLoopback(new DefaultHttpContext()));

    [Fact]
    public void Route_headers_leave_out_the_clients_auth_headers()
    {
        var request = new DefaultHttpContext().Request;
        request.Headers.Authorization = "Bearer secret";
        request.Headers["X-Api-Key"] = "secret";
        request.Headers["x-goog-api-key"] = "secret";
        request.Headers["Anthropic-Beta"] = "a";
        request.Headers.Append("X-Multi", "1");
        request.Headers.Append("X-Multi", "2");

        var headers = RoutingRequest.RouteHeaders(request);

        Assert.Equal(["Anthropic-Beta", "X-Multi"], headers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("a", headers["anthropic-beta"]);
        Assert.Equal("1,2", headers["x-multi"]);
        Assert.DoesNotContain("secret", string.Join(",", headers.Values));
        Assert.Equal("Bearer secret", RoutingRequest.AllHeaders(request)["authorization"]);
        Assert.False(headers.ContainsKey("authorization")); // looked up by name too, not only when listed
        Assert.False(headers.TryGetValue("X-API-KEY", out _));
        Assert.Equal(2, headers.Count);

        var auth = RoutingRequest.AuthHeaders(request);
        Assert.Equal(["Authorization", "X-Api-Key", "x-goog-api-key"], auth.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal("Bearer secret", auth["AUTHORIZATION"]);
        Assert.False(auth.ContainsKey("anthropic-beta"));
    }

    [Fact]
    public void Route_values_hold_the_string_values_only_and_ignore_case()
    {
        var values = new Microsoft.AspNetCore.Routing.RouteValueDictionary { ["provider"] = "anthropic", ["count"] = 3 };

        var view = RouteValueView.Of(values);

        Assert.Equal("anthropic", view["Provider"]);
        Assert.False(view.ContainsKey("count"));
        Assert.Equal(["provider"], view.Keys);
        Assert.Empty(RouteValueView.Of([]));
    }

    [Fact]
    public void Client_key_is_the_one_the_auth_middleware_recorded()
    {
        var http = new DefaultHttpContext();
        Assert.Null(RoutingRequest.ClientKey(http));
        http.Features.Set(new ClientKeyFeature("k-1"));
        Assert.Equal("k-1", RoutingRequest.ClientKey(http));
        Assert.DoesNotContain("k-1", http.Features.Get<ClientKeyFeature>()!.ToString());
    }
}
