using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Keep-alives while the upstream is silent. The fake holds its answer until the client has seen one.</summary>
public sealed class KeepAliveTests
{
    [Fact]
    public async Task Nonstream_keepalive_sends_newlines_while_waiting_and_the_body_stays_valid_json()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync("nonstream-keepalive-interval: 1");
        var release = new TaskCompletionSource();
        proxy.Enqueue(ChatReply.Text("late answer").HeldUntil(release.Task));

        using var response = await proxy.Server.PostJsonAsync("/v1/messages",
            """{"model":"client-model","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode); // committed by the first keep-alive
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(first));
        Assert.Equal((byte)'\n', first[0]);

        release.SetResult();
        var rest = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
        var message = JsonNode.Parse(rest)!; // leading newlines are JSON whitespace
        Assert.Equal("late answer", (string?)message["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Stream_keepalive_sends_sse_comments_while_the_upstream_is_silent()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync("streaming:\n  keepalive-seconds: 1");
        var release = new TaskCompletionSource();
        proxy.Enqueue(ChatReply.Text("first", "second").PausingAfter(2, release.Task));

        using var response = await proxy.Server.PostJsonAsync("/v1/messages",
            """{"model":"client-model","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) != ": keep-alive")
            Assert.NotNull(line);

        release.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("second", rest);
        Assert.Contains("event: message_stop", rest);
    }

    [Fact]
    public async Task A_client_that_leaves_during_a_keepalive_wait_ends_the_request_cleanly()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync("streaming:\n  keepalive-seconds: 1");
        var release = new TaskCompletionSource();
        proxy.Enqueue(ChatReply.Text("first", "second").PausingAfter(2, release.Task));

        // A translated stream (passthrough relays bytes untouched and sends no keep-alives).
        var response = await proxy.Server.PostJsonAsync("/v1/messages",
            """{"model":"client-model","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) != ": keep-alive") Assert.NotNull(line);
        response.Dispose(); // the client goes away while the upstream is silent

        await TestServer.EventuallyAsync(() => Task.FromResult(proxy.Server.Logs.Contains("POST /v1/messages ->")), "the request ends");
        release.SetResult();
        Assert.DoesNotContain("Unhandled exception", proxy.Server.Logs);
    }

    [Fact]
    public async Task Without_the_settings_no_keepalives_are_sent()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("plain"));
        var (status, body, _) = await proxy.PostAsync("/v1/messages", """{"model":"client-model","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, status);
        Assert.StartsWith("{", body);
    }
}
