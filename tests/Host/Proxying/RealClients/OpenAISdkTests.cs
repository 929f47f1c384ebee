using System.ClientModel;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying.RealClients;

/// <summary>The official OpenAI .NET SDK against the server, which forwards to the OpenAI-compatible fake.</summary>
public sealed class OpenAISdkTests
{
    private static ChatClient Chat(OpenAICompatProxy proxy) =>
        new(OpenAICompatProxy.ClientModel, new ApiKeyCredential(OpenAICompatProxy.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(proxy.BaseUrl + "/v1") });

    private static ResponsesClient Responses(OpenAICompatProxy proxy) =>
        new(new ApiKeyCredential(OpenAICompatProxy.ClientKey), new ResponsesClientOptions { Endpoint = new Uri(proxy.BaseUrl + "/v1") });

    [Fact]
    public async Task Chat_client_completes()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi from the fake").WithUsage(new FakeUsage(9, 4)));

        ChatCompletion completion = await Chat(proxy).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hi from the fake", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        Assert.Equal(OpenAICompatProxy.UpstreamModel, (string?)Assert.Single(proxy.Upstream.ChatRequests).Json!["model"]);
    }

    [Fact]
    public async Task Chat_client_streams()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi", " from", " the", " fake").WithUsage(new FakeUsage(9, 4)));

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        // The SDK asks for stream usage itself (stream_options.include_usage).
        await foreach (var update in Chat(proxy).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("Hi from the fake", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(13, usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Chat_client_tool_call_round_trip()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.ToolCalls(("call_sdk", "get_weather", """{"city":"Bern"}""")), ChatReply.Text("It is 12 °C in Bern."));
        var client = Chat(proxy);
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Current weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")) },
        };
        List<ChatMessage> messages = [new UserChatMessage("Weather in Bern?")];

        ChatCompletion first = await client.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        JsonAssert.Equal("""{"city":"Bern"}""", JsonNode.Parse(call.FunctionArguments.ToString()));
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temp_c":12}"""));
        ChatCompletion second = await client.CompleteChatAsync(messages, options);

        Assert.Equal("It is 12 °C in Bern.", second.Content[0].Text);
        var upstream = proxy.Upstream.ChatRequests[1].Json!["messages"]!.AsArray();
        Assert.Equal("call_sdk", (string?)upstream[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("call_sdk", (string?)upstream[2]!["tool_call_id"]);
        Assert.Equal("get_weather", (string?)proxy.Upstream.ChatRequests[1].Json!["tools"]![0]!["function"]!["name"]);
    }

    [Fact]
    public async Task Responses_client_creates_a_response()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi from the fake").WithUsage(new FakeUsage(9, 4)));

        ResponseResult response = await Responses(proxy).CreateResponseAsync(OpenAICompatProxy.ClientModel, "hi");

        Assert.Equal("Hi from the fake", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(9, response.Usage.InputTokenCount);
        Assert.Equal(4, response.Usage.OutputTokenCount);
        Assert.Equal("hi", (string?)Assert.Single(proxy.Upstream.ChatRequests).Json!["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task Responses_client_streams()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        proxy.Enqueue(ChatReply.Text("Hi", " from", " the", " fake").WithUsage(new FakeUsage(9, 4)));

        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await Responses(proxy).CreateResponseStreamingAsync(OpenAICompatProxy.ClientModel, "hi"))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
        }

        Assert.Equal("Hi from the fake", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal("Hi from the fake", completed.GetOutputText());
        Assert.Equal(13, completed.Usage.TotalTokenCount);
    }
}
