using System.Net;
using System.Net.Http.Headers;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Config;

public sealed class ConfigReloadTests
{
    [Fact]
    public async Task Adding_and_removing_client_keys_takes_effect_live_and_broken_yaml_keeps_the_last_good_config()
    {
        await using var server = await TestServer.StartAsync("api-keys: [\"key-one\"]\n");
        Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(server, "key-one"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsStatusAsync(server, "key-two"));

        await server.WriteConfigAsync("api-keys: [\"key-one\", \"key-two\"]\n");
        await TestServer.EventuallyAsync(async () => await ModelsStatusAsync(server, "key-two") == HttpStatusCode.OK, "key-two becomes valid");

        await server.WriteConfigAsync("api-keys: [\"key-two\"]\n");
        await TestServer.EventuallyAsync(async () => await ModelsStatusAsync(server, "key-one") == HttpStatusCode.Unauthorized, "key-one becomes invalid");

        await server.WriteConfigAsync("api-keys: [\"key-three\"\nport: [oops\n");
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("Config not applied, keeping the previous one")), "the broken file is logged");
        Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(server, "key-two"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsStatusAsync(server, "key-three"));
    }

    [Fact]
    public async Task A_reload_that_would_open_a_public_bind_without_keys_is_rejected()
    {
        await using var server = await TestServer.StartAsync("api-keys: [\"key-one\"]\n");

        await server.WriteConfigAsync("host: \"0.0.0.0\"\napi-keys: []\n");

        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("api-keys is empty")), "the rejection is logged");
        Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(server, "key-one"));
    }

    [Fact]
    public async Task A_server_bound_publicly_keeps_requiring_keys_when_a_reload_names_loopback_and_drops_the_keys()
    {
        // host changes need a restart, so the reload is judged by the address actually in use (0.0.0.0 here).
        await using var server = await TestServer.StartAsync("host: \"0.0.0.0\"\napi-keys: [\"key-one\"]\n");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Address.Port}") };

        await server.WriteConfigAsync("host: \"127.0.0.1\"\napi-keys: []\n");

        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("api-keys is empty")), "the rejection is logged");
        using var anonymous = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static async Task<HttpStatusCode> ModelsStatusAsync(TestServer server, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }
}
