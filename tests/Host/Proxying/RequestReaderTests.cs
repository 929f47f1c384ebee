using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Bodies the reader refuses: each a 4xx in the client's dialect that says what is wrong, never a 500.</summary>
public sealed class RequestReaderTests
{
    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"a","model":"b","messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("/v1/chat/completions", """{"model":"a","messages":[],"messages":[{"role":"user","content":"hi"}]}""", "messages")]
    [InlineData("/v1/messages", """{"model":"a","max_tokens":5,"messages":[{"role":"user","role":"assistant","content":"hi"}]}""", "role")]
    [InlineData("/v1/responses", """{"model":"a","input":"hi","input":"again"}""", "input")]
    [InlineData("/v1beta/models/a:generateContent", """{"contents":[{"role":"user","parts":[{"text":"x","text":"y"}]}]}""", "text")]
    public async Task A_duplicated_key_is_a_400_in_the_clients_dialect_naming_the_key(string path, string body, string key)
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.PostJsonAsync(path, body);
        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var message = (string?)error["error"]?["message"];
        Assert.NotNull(message);
        Assert.Contains($"Duplicate property '{key}'", message);
        if (path.StartsWith("/v1/messages", StringComparison.Ordinal)) Assert.Equal("error", (string?)error["type"]);
        if (path.StartsWith("/v1beta", StringComparison.Ordinal)) Assert.Equal("INVALID_ARGUMENT", (string?)error["error"]?["status"]);
    }

    [Fact]
    public async Task A_body_nested_deeper_than_64_levels_is_a_400_not_a_502()
    {
        await using var server = await TestServer.StartAsync();
        var deep = new string('[', 100) + new string(']', 100);
        using var response = await server.PostJsonAsync("/v1/chat/completions", "{\"x\":" + deep + ",\"model\":\"a\",\"messages\":[]}");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("depth", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
    }
}
