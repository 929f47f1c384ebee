using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Endpoints;

/// <summary>Model listings in each dialect's shape, from config credentials served by the built-in OpenAICompat plugin.</summary>
public sealed class ModelEndpointsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("""
        openai-compatibility:
          - name: "Zeta"
            base-url: "http://127.0.0.1:9/v1"
            models: [{name: "z-up", alias: "zulu"}, {name: "a-up", alias: "alpha"}]
          - name: "beta"
            base-url: "http://127.0.0.1:9/v1"
            prefix: "team"
            models: [{name: "m-up", alias: "mike"}]
        """, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task OpenAI_listing_is_sorted_and_includes_prefixed_ids()
    {
        var body = await _server.GetJsonAsync("/v1/models");
        Assert.Equal("list", (string?)body["object"]);
        var ids = body["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
        Assert.Equal(["alpha", "mike", "team/mike", "zulu"], ids);
        var alpha = body["data"]![0]!;
        Assert.Equal("model", (string?)alpha["object"]);
        Assert.Equal("zeta", (string?)alpha["owned_by"]);
    }

    [Fact]
    public async Task Claude_code_gets_the_anthropic_shape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("User-Agent", "claude-cli/2.1.197 (external, sdk-cli)");
        using var response = await _server.Client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.False((bool)body["has_more"]!);
        Assert.Equal("alpha", (string?)body["first_id"]);
        Assert.Equal("zulu", (string?)body["last_id"]);
        Assert.All(body["data"]!.AsArray(), m => Assert.Equal("model", (string?)m!["type"]));
        Assert.Null(body["object"]);
    }

    [Fact]
    public async Task Gemini_listing_and_single_model()
    {
        var list = await _server.GetJsonAsync("/v1beta/models");
        var names = list["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();
        Assert.Equal(["models/alpha", "models/mike", "models/team/mike", "models/zulu"], names);
        Assert.Contains("generateContent", list["models"]![0]!["supportedGenerationMethods"]!.AsArray().Select(x => (string)x!));

        var one = await _server.GetJsonAsync("/v1beta/models/zulu");
        Assert.Equal("models/zulu", (string?)one["name"]);
        Assert.Equal("models/zulu", (string?)(await _server.GetJsonAsync("/v1beta/models/models/zulu"))["name"]);

        using var missing = await _server.Client.GetAsync("/v1beta/models/nope");
        Assert.Equal(404, (int)missing.StatusCode);
        var error = JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("NOT_FOUND", (string?)error["status"]);
        Assert.Contains("GET /v1beta/models", (string?)error["message"]);
    }

    [Fact]
    public async Task Health_reports_plugins_credentials_and_models()
    {
        var health = await _server.GetJsonAsync("/healthz");
        Assert.Equal("ok", (string?)health["status"]);
        Assert.True((long)health["plugins"]!["revision"]! >= 1);
        Assert.Contains(health["plugins"]!["loaded"]!.AsArray(), p => (string?)p!["name"] == "PluginProxy.Plugins.OpenAICompat" && (string?)p["version"] == "0.1.0");
        Assert.Equal(2, (int)health["credentials"]!);
        Assert.Equal(4, (int)health["models"]!);
    }
}
