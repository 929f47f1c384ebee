using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying.RealClients;

/// <summary>The official Anthropic .NET SDK against the server, which translates to the OpenAI-compatible fake.</summary>
public sealed class AnthropicSdkTests
{
    private static AnthropicClient Client(OpenAICompatProxy proxy) => new() { ApiKey = OpenAICompatProxy.ClientKey, BaseUrl = proxy.BaseUrl, MaxRetries = 0 };

    private static MessageCreateParams Hi() => new()
    {
        Model = OpenAICompatProxy.ClientModel,
        MaxTokens = 64,
        Messages = [new UserMessageParam { Content = "hi" }],
    };

    [Fact]
    public async Task Messages_create()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi from the fake").WithUsage(new FakeUsage(9, 4)));
        using var client = Client(proxy);

        var message = await client.Messages.Create(Hi());

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Hi from the fake", text.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason?.Value());
        Assert.Equal(9, message.Usage.InputTokens);
        Assert.Equal(4, message.Usage.OutputTokens);
        Assert.Equal(64, (int)Assert.Single(proxy.Upstream.ChatRequests).Json!["max_tokens"]!);
    }

    [Fact]
    public async Task Messages_create_streaming()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi", " from", " the", " fake").WithUsage(new FakeUsage(9, 4)));
        using var client = Client(proxy);

        var text = new StringBuilder();
        StopReason? stop = null;
        long? outputTokens = null;
        var sawStart = false;
        var sawStop = false;
        await foreach (var e in client.Messages.CreateStreaming(Hi()))
        {
            sawStart |= e.TryPickStart(out _);
            sawStop |= e.TryPickStop(out _);
            if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta)) text.Append(textDelta.Text);
            if (e.TryPickDelta(out var messageDelta))
            {
                stop = messageDelta.Delta.StopReason?.Value();
                outputTokens = messageDelta.Usage.OutputTokens;
            }
        }

        Assert.True(sawStart);
        Assert.True(sawStop);
        Assert.Equal("Hi from the fake", text.ToString());
        Assert.Equal(StopReason.EndTurn, stop);
        Assert.Equal(4, outputTokens);
    }
}
