using System.Text;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Streams reach the client event by event, not buffered until the upstream finishes.</summary>
public sealed class IncrementalStreamingTests
{
    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"client-model","stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/completions", """{"model":"client-model","stream":true,"prompt":"hi"}""")]
    [InlineData("/v1/responses", """{"model":"client-model","stream":true,"input":"hi"}""")]
    [InlineData("/v1/messages", """{"model":"client-model","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1beta/models/client-model:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""")]
    [InlineData("/v1beta/models/client-model:streamGenerateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""")]
    public async Task First_text_reaches_the_client_while_the_upstream_is_still_streaming(string path, string body)
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The role chunk and "Early" are sent; the rest waits until the client has seen "Early".
        proxy.Enqueue(ChatReply.Text("Early", " and late").PausingAfter(2, resume.Task));

        using var response = await proxy.Server.PostJsonAsync(path, body, HttpCompletionOption.ResponseHeadersRead);
        using var stream = await response.Content.ReadAsStreamAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (!text.ToString().Contains("Early"))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token); // fails the test (cancelled) if the proxy buffers
            Assert.True(read > 0, "the stream ended before the first text arrived: " + text);
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        Assert.DoesNotContain("and late", text.ToString());

        resume.SetResult();
        text.Append(await new StreamReader(stream).ReadToEndAsync(timeout.Token));
        Assert.Contains("and late", text.ToString());
    }
}
