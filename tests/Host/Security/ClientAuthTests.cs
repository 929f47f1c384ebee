using System.Net;
using System.Text.Json.Nodes;
using PluginProxy.Host.Config;
using PluginProxy.Host.Server;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Security;

public sealed class ClientAuthTests : IAsyncLifetime
{
    private const string Key = "client-key-123";
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync($"api-keys: [\"{Key}\"]\n");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("Authorization", "Bearer " + Key)]
    [InlineData("Authorization", "bearer " + Key)]
    [InlineData("x-api-key", Key)]
    [InlineData("x-goog-api-key", Key)]
    public async Task Each_header_form_is_accepted(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation(header, value);
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_key_query_parameter_is_accepted()
    {
        using var response = await _server.Client.GetAsync($"/v1beta/models?key={Key}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Missing_key_is_401_in_the_openai_shape()
    {
        using var response = await _server.Client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("Missing API key", (string)body["error"]!["message"]!);
        Assert.Equal("authentication_error", (string?)body["error"]!["type"]);
    }

    [Fact]
    public async Task Wrong_key_is_401_in_the_dialect_of_the_path()
    {
        using var anthropic = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent("{}") };
        anthropic.Headers.Add("x-api-key", "wrong");
        using var anthropicResponse = await _server.Client.SendAsync(anthropic);
        var anthropicBody = JsonNode.Parse(await anthropicResponse.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Unauthorized, anthropicResponse.StatusCode);
        Assert.Equal("error", (string?)anthropicBody["type"]);
        Assert.Equal("authentication_error", (string?)anthropicBody["error"]!["type"]);
        Assert.Equal("Invalid API key.", (string?)anthropicBody["error"]!["message"]);

        using var gemini = await _server.Client.PostAsync("/v1beta/models/m:generateContent?key=wrong", new StringContent("{}"));
        var geminiBody = JsonNode.Parse(await gemini.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Unauthorized, gemini.StatusCode);
        Assert.Equal(401, (int?)geminiBody["error"]!["code"]);
        Assert.Equal("UNAUTHENTICATED", (string?)geminiBody["error"]!["status"]);
    }

    [Fact]
    public async Task Health_is_open_without_a_key()
    {
        using var response = await _server.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_server_refuses_to_start_on_a_public_address_without_keys()
    {
        var dir = Directory.CreateTempSubdirectory("pluginproxy-bind-").FullName;
        var config = Path.Combine(dir, "config.yaml");
        await File.WriteAllTextAsync(config, $"host: \"0.0.0.0\"\nport: 0\nauth-dir: \"{Path.Combine(dir, "auths")}\"\n");

        var e = await Assert.ThrowsAsync<ConfigException>(() => ProxyServer.StartAsync(new ServerOptions { ConfigPath = config, PluginsFolder = dir }));

        Assert.Contains("0.0.0.0", e.Message);
        Assert.Contains("api-keys is empty", e.Message);
        Directory.Delete(dir, true);
    }
}
