using System.Text.Json.Nodes;

namespace PluginProxy.Tests.Host.Management;

public sealed class ConfigEndpointsTests
{
    private const string Yaml = """
        # retries, tuned by hand
        request-retry: 1   # keep low
        debug: false
        routing:
          strategy: round-robin # default
        api-keys:
          - client-key-1
        ampcode:
          upstream-url: "https://amp.invalid"
          model-mappings:
            - from: a
              to: b
        """;

    [Fact]
    public async Task Get_config_is_flat_json_with_yaml_key_names_and_without_the_bind_or_the_secret()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        var (status, body, _) = await server.GetAsync("/config");
        Assert.Equal(200, status);
        Assert.Equal(1, (int?)body!["request-retry"]);
        Assert.Equal("round-robin", (string?)body["routing"]!["strategy"]);
        Assert.Equal("client-key-1", (string?)body["api-keys"]![0]);
        Assert.Equal("https://amp.invalid", (string?)body["ampcode"]!["upstream-url"]);
        Assert.Null(body["remote-management"]);
        Assert.Null(body["port"]);
        Assert.Null(body["auth-dir"]);
    }

    [Fact]
    public async Task A_setting_changed_through_the_api_lands_in_the_file_with_its_comments_and_is_live_at_once()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        var (status, body, _) = await server.PutAsync("/request-retry", """{"value":4}""");
        Assert.Equal(200, status);
        Assert.Equal("ok", (string?)body!["status"]);
        Assert.Contains("# retries, tuned by hand\nrequest-retry: 4   # keep low\ndebug: false\n", server.ConfigText);
        Assert.Equal(4, server.Server.Server.Config.Config.RequestRetry);
        Assert.Equal(4, (int?)(await server.GetAsync("/request-retry")).Body!["request-retry"]);

        Assert.Equal(200, (await server.SendAsync(HttpMethod.Patch, "/debug", """{"value":true}""")).Status);
        Assert.True(server.Server.Server.Config.Config.Debug);
        Assert.Equal(200, (await server.PutAsync("/quota-exceeded/switch-project", """{"value":true}""")).Status);
        Assert.True((bool?)(await server.GetAsync("/quota-exceeded/switch-project")).Body!["switch-project"]);
        Assert.Contains("quota-exceeded:\n  switch-project: true", server.ConfigText);
        Assert.Equal(200, (await server.PutAsync("/max-retry-interval", """{"value":30}""")).Status);
        Assert.Equal(30, server.Server.Server.Config.Config.MaxRetryInterval);
        Assert.Equal(200, (await server.PutAsync("/logging-to-file", """{"value":false}""")).Status);
        Assert.Equal(200, (await server.PutAsync("/force-model-prefix", """{"value":true}""")).Status);
        Assert.True(server.Server.Server.Config.Config.ForceModelPrefix);
    }

    [Theory]
    [InlineData("/request-retry", """{"value":"four"}""")]
    [InlineData("/request-retry", """{"value":-1}""")]
    [InlineData("/request-retry", """{"other":1}""")]
    [InlineData("/debug", """{"value":"yes"}""")]
    [InlineData("/debug", "not json")]
    [InlineData("/proxy-url", """{"value":12}""")]
    [InlineData("/proxy-url", """{"value":"ftp://nope"}""")]
    [InlineData("/routing/strategy", """{"value":"random"}""")]
    public async Task Bad_values_are_400_with_a_message_and_the_file_is_untouched(string path, string body)
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        var before = server.ConfigText;
        var (status, reply, _) = await server.PutAsync(path, body);
        Assert.Equal(400, status);
        Assert.False(string.IsNullOrEmpty((string?)reply!["error"]));
        Assert.Equal(before, server.ConfigText);
    }

    [Fact]
    public async Task Routing_strategy_and_proxy_url_use_CLIProxyAPIs_shapes()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        Assert.Equal("round-robin", (string?)(await server.GetAsync("/routing/strategy")).Body!["strategy"]);
        Assert.Equal(200, (await server.PutAsync("/routing/strategy", """{"value":"ff"}""")).Status);
        Assert.Equal("fill-first", (string?)(await server.GetAsync("/routing/strategy")).Body!["strategy"]);
        Assert.Contains("  strategy: fill-first # default\n", server.ConfigText);

        Assert.Equal(200, (await server.PutAsync("/proxy-url", """{"value":"socks5://127.0.0.1:1080"}""")).Status);
        Assert.Equal("socks5://127.0.0.1:1080", server.Server.Server.Config.Config.ProxyUrl);
        Assert.Equal("socks5://127.0.0.1:1080", (string?)(await server.GetAsync("/proxy-url")).Body!["proxy-url"]);
        Assert.Equal(200, (await server.DeleteAsync("/proxy-url")).Status);
        Assert.Null(server.Server.Server.Config.Config.ProxyUrl);
        Assert.DoesNotContain("proxy-url", server.ConfigText);
    }

    [Fact]
    public async Task Config_yaml_is_read_raw_and_replaced_only_when_valid()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        using (var raw = await server.Server.Client.SendAsync(ManagementServer.Request(HttpMethod.Get, "/config.yaml")))
        {
            Assert.Equal("application/yaml; charset=utf-8", raw.Content.Headers.ContentType!.ToString());
            Assert.Equal(server.ConfigText, await raw.Content.ReadAsStringAsync());
        }
        var broken = await server.SendAsync(HttpMethod.Put, "/config.yaml", null);
        Assert.Equal(400, broken.Status);

        var badYaml = new HttpRequestMessage(HttpMethod.Put, "/v0/management/config.yaml") { Content = new StringContent("a: [unclosed\n") };
        badYaml.Headers.Authorization = new("Bearer", ManagementServer.Key);
        using (var response = await server.Server.Client.SendAsync(badYaml))
        {
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal("invalid_yaml", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
        }
        var badConfig = new HttpRequestMessage(HttpMethod.Put, "/v0/management/config.yaml") { Content = new StringContent("max-body-size-mb: 0\n") };
        badConfig.Headers.Authorization = new("Bearer", ManagementServer.Key);
        using (var response = await server.Server.Client.SendAsync(badConfig))
        {
            Assert.Equal(422, (int)response.StatusCode);
            Assert.Equal("invalid_config", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
        }

        var replacement = server.ConfigText.Replace("request-retry: 1", "request-retry: 7");
        var good = new HttpRequestMessage(HttpMethod.Put, "/v0/management/config.yaml") { Content = new StringContent(replacement) };
        good.Headers.Authorization = new("Bearer", ManagementServer.Key);
        using (var response = await server.Server.Client.SendAsync(good))
        {
            Assert.Equal(200, (int)response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True((bool?)body["ok"]);
        }
        Assert.Equal(replacement, server.ConfigText);
        Assert.Equal(7, server.Server.Server.Config.Config.RequestRetry);
    }

    [Fact]
    public async Task A_plaintext_key_put_back_through_config_yaml_is_hashed_before_it_is_written()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        var replacement = System.Text.RegularExpressions.Regex.Replace(server.ConfigText, @"secret-key: .*", "secret-key: another-plain-key");
        var put = new HttpRequestMessage(HttpMethod.Put, "/v0/management/config.yaml") { Content = new StringContent(replacement) };
        put.Headers.Authorization = new("Bearer", ManagementServer.Key);
        using (var response = await server.Server.Client.SendAsync(put)) Assert.Equal(200, (int)response.StatusCode);
        Assert.DoesNotContain("another-plain-key", server.ConfigText);
        Assert.Equal(200, (await server.GetAsync("/debug", key: "another-plain-key")).Status);
    }

    [Fact]
    public async Task A_hand_edit_with_a_plaintext_key_is_hashed_after_the_reload()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        await File.WriteAllTextAsync(server.Server.ConfigPath, $"remote-management:\n  secret-key: hand-edited-key # mine\nauth-dir: \"{server.Server.AuthDir}\"\n");
        await Support.TestServer.EventuallyAsync(() => Task.FromResult(
            server.ConfigText.Contains("secret-key: $2") || server.ConfigText.Contains("secret-key: \"$2")), "the plaintext key is hashed");
        Assert.Contains(" # mine", server.ConfigText);
        Assert.Equal(200, (await server.GetAsync("/debug", key: "hand-edited-key")).Status);
    }
}
