using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class CompletionsAdapterTests
{
    [Fact]
    public void PromptAndSamplingBecomeAChatRequest()
    {
        var request = CompletionsAdapter.DecodeRequest(Parse("""
            {"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","max_tokens":7,"temperature":0,"top_p":1,
             "frequency_penalty":0.5,"presence_penalty":0.25,"stop":"\n","stream":true,"stream_options":{"include_usage":true},
             "n":2,"seed":9,"user":"u","echo":true,"suffix":"!","best_of":3}
            """));

        Assert.Equal("gpt-3.5-turbo-instruct", request.Model);
        var message = Assert.Single(request.Messages);
        Assert.Equal(Role.User, message.Role);
        Assert.Equal("Say this is a test", Assert.IsType<TextPart>(Assert.Single(message.Parts)).Text);
        var s = request.Sampling;
        Assert.Equal((7, 0.0, 1.0, 0.5, 0.25, 2, 9L), (s.MaxOutputTokens, s.Temperature, s.TopP, s.FrequencyPenalty, s.PresencePenalty, s.CandidateCount, s.Seed));
        Assert.Equal(["\n"], s.StopSequences);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        Assert.Equal("u", request.User);
        Assert.Empty(request.Extensions);
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":["line one","line two"]}""", "line one\nline two")]
    [InlineData("""{"model":"m","prompt":""}""", "Complete this:")]
    [InlineData("""{"model":"m"}""", "Complete this:")]
    public void PromptForms(string body, string expected)
    {
        var request = CompletionsAdapter.DecodeRequest(Parse(body));
        Assert.Equal(expected, Assert.IsType<TextPart>(request.Messages[0].Parts[0]).Text);
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":[1212,318]}""", "'prompt[0]' must be a string")]
    [InlineData("""{"model":"m","prompt":{"text":"x"}}""", "'prompt' must be a string")]
    [InlineData("""{"model":"m","prompt":"x","max_tokens":"many"}""", "'max_tokens' must be an integer")]
    public void BadPromptsThrow(string body, string message)
    {
        var error = Assert.Throws<RequestFormatException>(() => CompletionsAdapter.DecodeRequest(Parse(body)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ResponseIsATextCompletion()
    {
        var response = new ChatResponse
        {
            Id = "cmpl-1",
            Model = "m-upstream",
            Created = 1735689600,
            Choices = [new Choice { Parts = [new ReasoningPart { Text = "hidden" }, new TextPart("This is "), new TextPart("a test.")], FinishReason = FinishReason.Length }],
            Usage = new Usage { InputTokens = 5, OutputTokens = 7 },
        };

        JsonAssert.Equal("""
            {"id":"cmpl-1","object":"text_completion","created":1735689600,"model":"m-upstream",
             "choices":[{"index":0,"text":"This is a test.","finish_reason":"length","logprobs":null}],
             "usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}
            """, CompletionsAdapter.EncodeResponse(response, new ChatRequest { Model = "m" }));
    }

    [Fact]
    public void StreamIsTextCompletionChunksThenDone()
    {
        var sse = StreamHarness.Encode(CompletionsAdapter.CreateStreamEncoder(new ChatRequest { Model = "m", IncludeUsage = true }),
        [
            new ResponseStarted("cmpl-9", "m", 1735689600),
            new ReasoningDelta(0, "ignored"),
            new TextDelta(0, "Hello"),
            new ToolCallStarted(0, 0, "c", "ignored"),
            new TextDelta(0, " there"),
            new ChoiceFinished(0, FinishReason.Stop),
            new UsageReported(new Usage { InputTokens = 2, OutputTokens = 2 }),
            ResponseCompleted.Instance,
        ]);

        const string head = "\"id\":\"cmpl-9\",\"object\":\"text_completion\",\"created\":1735689600,\"model\":\"m\"";
        Assert.Equal(
            $"data: {{{head},\"choices\":[{{\"index\":0,\"text\":\"Hello\",\"finish_reason\":null,\"logprobs\":null}}]}}\n\n" +
            $"data: {{{head},\"choices\":[{{\"index\":0,\"text\":\" there\",\"finish_reason\":null,\"logprobs\":null}}]}}\n\n" +
            $"data: {{{head},\"choices\":[{{\"index\":0,\"text\":\"\",\"finish_reason\":\"stop\",\"logprobs\":null}}]}}\n\n" +
            $"data: {{{head},\"choices\":[],\"usage\":{{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4,\"prompt_tokens_details\":{{\"cached_tokens\":0}},\"completion_tokens_details\":{{\"reasoning_tokens\":0}}}}}}\n\n" +
            "data: [DONE]\n\n",
            sse);
    }

    [Fact]
    public void StreamWithoutFinishOrStartIsClosedAndErrorsEndIt()
    {
        var encoder = CompletionsAdapter.CreateStreamEncoder(new ChatRequest { Model = "m" });
        var sse = StreamHarness.Encode(encoder, [new TextDelta(0, "x"), ResponseCompleted.Instance]);
        var events = StreamHarness.ParseSse(sse);
        Assert.Equal(3, events.Count);
        Assert.Contains("\"finish_reason\":\"stop\"", events[1].Data);
        Assert.StartsWith("{\"id\":\"cmpl-", events[0].Data);

        var failing = CompletionsAdapter.CreateStreamEncoder(new ChatRequest());
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        failing.EncodeError(500, "boom", buffer);
        failing.Encode(ResponseCompleted.Instance, buffer);
        Assert.Equal("data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":null}}\n\n", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
