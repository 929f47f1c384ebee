using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>
/// A mapped model served by passthrough (an OpenAI Chat client, an OpenAI-compatible account): the answer carries the
/// model Amp asked for, not the account's upstream name, streaming or not.
/// </summary>
public sealed class AmpPassthroughModelTests : IAsyncLifetime
{
    private const string Path = "/api/provider/openai/v1/chat/completions";

    private FakeOpenAIUpstream _openai = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _server = await AmpTestServer.StartAsync(_openai, $"""
            ampcode:
              model-mappings:
                - from: "gpt-amp-asked"
                  to: "{AmpTestServer.ClientModel}"
            """);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _openai.DisposeAsync();
    }

    [Fact]
    public async Task A_mapped_answer_names_the_requested_model()
    {
        _openai.Enqueue(ChatReply.Text("mapped answer"));

        using var response = await _server.PostJsonAsync(Path, Body(stream: false));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == 200, text);
        var answer = JsonNode.Parse(text)!;
        Assert.Equal("gpt-amp-asked", (string?)answer["model"]);
        Assert.Equal("mapped answer", (string?)answer["choices"]![0]!["message"]!["content"]);
        // The account was asked for its own name (passthrough: the client's bytes with the model swapped).
        Assert.Equal(AmpTestServer.UpstreamModel, (string?)Assert.Single(_openai.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task A_mapped_stream_names_the_requested_model_in_every_chunk_as_it_arrives()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _openai.Enqueue(ChatReply.Text("one", "two").PausingAfter(2, release.Task));

        using var response = await _server.PostJsonAsync(Path, Body(stream: true), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);

        Assert.Equal(200, (int)response.StatusCode);
        // The upstream holds the rest until the first chunks reached the client renamed.
        var first = await NextDataAsync(reader);
        Assert.NotNull(first); // the stream ended before its first event otherwise
        Assert.Equal("gpt-amp-asked", (string?)JsonNode.Parse(first)!["model"]);
        release.SetResult();
        var rest = new List<string>();
        while (await NextDataAsync(reader) is { } data && data != "[DONE]") rest.Add(data);
        Assert.NotEmpty(rest);
        Assert.All(rest, data => Assert.Equal("gpt-amp-asked", (string?)JsonNode.Parse(data)!["model"]));
        Assert.Contains(rest, data => data.Contains("two"));
    }

    [Fact]
    public async Task An_unmapped_answer_keeps_the_upstreams_bytes()
    {
        _openai.Enqueue(ChatReply.Text("plain"));

        using var response = await _server.PostJsonAsync(Path,
            $$"""{"model":"{{AmpTestServer.ClientModel}}","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(AmpTestServer.UpstreamModel, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["model"]);
    }

    private static async Task<string?> NextDataAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) return line["data: ".Length..];
        return null;
    }

    private static string Body(bool stream) =>
        $$"""{"model":"gpt-amp-asked","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""";
}
