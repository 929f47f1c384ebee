using System.Text;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Host.Proxying;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>Usage is observed on passthrough answers too, while their bytes are relayed unchanged.</summary>
public sealed class PassthroughUsageTests
{
    public static TheoryData<Dialect, string, long, long> Streams => new()
    {
        { Dialect.OpenAIChat, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7}}\n\ndata: [DONE]\n\n", 11, 7 },
        { Dialect.Anthropic, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":21,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"about usage\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n", 21, 9 },
        { Dialect.OpenAIResponses, "event: response.completed\r\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":31,\"output_tokens\":5,\"total_tokens\":36}}}\r\n\r\n", 31, 5 },
        { Dialect.Gemini, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":41,\"candidatesTokenCount\":3}}\n\n", 41, 3 },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void Every_dialects_stream_reports_its_usage_whatever_the_chunking(Dialect dialect, string stream, long input, long output)
    {
        var bytes = Encoding.UTF8.GetBytes(stream);
        for (var split = 1; split < bytes.Length; split += 7)
        {
            var usage = new PassthroughUsage(Codecs.For(dialect), sse: true);
            usage.Observe(bytes.AsSpan(0, split));
            usage.Observe(bytes.AsSpan(split));
            usage.Complete();
            Assert.Equal((input, output), (usage.Usage!.InputTokens, usage.Usage.OutputTokens));
        }
    }

    [Theory]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":1}}""", true)]
    [InlineData("""{"type":"response.completed","response":{"usage":{"input_tokens":1}}}""", true)]
    [InlineData("""{"candidates":[],"usageMetadata":{"promptTokenCount":1}}""", true)]
    [InlineData("""{"choices":[{"delta":{"content":"the usage was"}}],"usage":null}""", false)]
    [InlineData("""{"type":"response.created","response":{"usage":null}}""", false)]
    [InlineData("""{"text":"usage"}""", false)]
    public void Only_events_carrying_a_usage_object_are_decoded(string data, bool decoded) =>
        Assert.Equal(decoded, PassthroughUsage.HasUsageObject(Encoding.UTF8.GetBytes(data)));

    [Fact]
    public void Chunks_with_null_usage_leave_the_last_reported_usage_alone()
    {
        var stream = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7}}\n\n"
                     + "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":null}\n\ndata: [DONE]\n\n";
        var usage = new PassthroughUsage(Codecs.For(Dialect.OpenAIChat), sse: true);
        usage.Observe(Encoding.UTF8.GetBytes(stream));
        usage.Complete();
        Assert.Equal((11L, 7L), (usage.Usage!.InputTokens, usage.Usage.OutputTokens));
    }

    [Fact]
    public void A_json_answer_is_read_at_the_end_and_garbage_is_ignored()
    {
        var usage = new PassthroughUsage(Codecs.For(Dialect.OpenAIChat), sse: false);
        usage.Observe("""{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"""u8);
        usage.Observe(""" "usage":{"prompt_tokens":5,"completion_tokens":2}}"""u8);
        usage.Complete();
        Assert.Equal(5, usage.Usage!.InputTokens);

        var garbage = new PassthroughUsage(Codecs.For(Dialect.Anthropic), sse: true);
        garbage.Observe("data: {not json usage\n\n"u8);
        garbage.Complete();
        Assert.Null(garbage.Usage);
    }

    [Theory]
    [InlineData(Dialect.Gemini, """{"candidates":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}""")]
    [InlineData(Dialect.OpenAIChat, """{"choices":[],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2}}""")]
    public void A_usage_object_under_another_dialects_key_is_not_read(Dialect dialect, string body)
    {
        var usage = new PassthroughUsage(Codecs.For(dialect), sse: false);
        usage.Observe(System.Text.Encoding.UTF8.GetBytes(body));
        usage.Complete();
        Assert.Null(usage.Usage); // not a 0/0 usage from the wrong mapping
    }

    public static TheoryData<Dialect, string, long, long> JsonAnswers => new()
    {
        { Dialect.OpenAIChat, """{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"{\"usage\":{\"prompt_tokens\":99}}","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":2}}}""", 12, 4 },
        { Dialect.Anthropic, """{"id":"m","type":"message","role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"usage":{"input_tokens":99}}}],"stop_reason":"tool_use","usage":{"input_tokens":22,"output_tokens":6,"cache_read_input_tokens":3}}""", 25, 6 }, // canonical input counts the cache reads
        { Dialect.Gemini, """{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":42,"candidatesTokenCount":8,"totalTokenCount":50},"modelVersion":"g"}""", 42, 8 },
        { Dialect.Gemini, """{"response":{"candidates":[],"usageMetadata":{"promptTokenCount":43,"candidatesTokenCount":9}},"traceId":"x"}""", 43, 9 },
        { Dialect.OpenAIResponses, """{"id":"r","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"hi"}]}],"usage":{"input_tokens":32,"output_tokens":6,"total_tokens":38}}""", 32, 6 },
        { Dialect.OpenAIResponses, """{"type":"response.completed","response":{"id":"r","status":"completed","output":[],"usage":{"input_tokens":33,"output_tokens":7}}}""", 33, 7 },
    };

    [Theory]
    [MemberData(nameof(JsonAnswers))]
    public void Every_dialects_json_answer_reports_the_usage_of_its_own_usage_object(Dialect dialect, string body, long input, long output)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        for (var split = 1; split < bytes.Length; split += 11)
        {
            var usage = new PassthroughUsage(Codecs.For(dialect), sse: false);
            usage.Observe(bytes.AsSpan(0, split));
            usage.Observe(bytes.AsSpan(split));
            usage.Complete();
            Assert.Equal((input, output), (usage.Usage!.InputTokens, usage.Usage.OutputTokens));
        }
    }

    [Fact]
    public void The_usage_slice_is_the_object_itself_and_keeps_every_field_the_codec_reads()
    {
        var body = """{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}"""u8.ToArray();
        var (name, start, length) = PassthroughUsage.FindUsage(body)!.Value;
        Assert.Equal("usage", name);
        Assert.Equal("""{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}""",
            Encoding.UTF8.GetString(body, start, length));

        var usage = new PassthroughUsage(Codecs.For(Dialect.OpenAIChat), sse: false);
        usage.Observe(body);
        usage.Complete();
        Assert.Equal((12L, 4L, 16L, 2L, 1L), (usage.Usage!.InputTokens, usage.Usage.OutputTokens, usage.Usage.TotalTokens ?? 0, usage.Usage.CachedInputTokens, usage.Usage.ReasoningTokens));
    }

    [Theory]
    [InlineData("""{"choices":[{"message":{"content":"x","metadata":{"usage":{"prompt_tokens":9}}}}]}""")] // nested deeper: not the answer's usage
    [InlineData("""{"choices":[],"usage":null}""")]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":1},"error":{"message":"nope"}}""")] // an error body, whatever the order
    [InlineData("""{"type":"error","usage":{"input_tokens":1},"error":"x"}""")]
    [InlineData("""[{"error":{"code":429}}]""")] // Gemini's error array
    [InlineData("""{"usage":{"prompt_tokens":1""")] // cut short
    [InlineData("not json")]
    public void Bodies_without_a_usable_usage_object_are_not_decoded(string body) =>
        Assert.Null(PassthroughUsage.FindUsage(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void A_top_level_usage_wins_over_one_inside_response()
    {
        var body = """{"response":{"usage":{"input_tokens":1}},"usage":{"input_tokens":2}}"""u8.ToArray();
        var (_, start, length) = PassthroughUsage.FindUsage(body)!.Value;
        Assert.Equal("""{"input_tokens":2}""", Encoding.UTF8.GetString(body, start, length));
    }

    [Fact]
    public void An_error_body_relayed_as_json_never_throws_from_the_observer()
    {
        foreach (var dialect in new[] { Dialect.OpenAIChat, Dialect.Anthropic, Dialect.Gemini, Dialect.OpenAIResponses })
        {
            var usage = new PassthroughUsage(Codecs.For(dialect), sse: false);
            usage.Observe("""{"error":{"message":"nope","type":"invalid_request_error","code":400}}"""u8);
            usage.Complete();
            Assert.Null(usage.Usage);
        }
    }

    [Fact]
    public async Task The_access_log_names_the_tokens_of_passthrough_and_translated_answers()
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        upstream.RespondWith(_ => ChatReply.Text("hello").WithUsage(new FakeUsage(123, 45)));
        await using var server = await TestServer.StartAsync($"""
            openai-compatibility:
              - name: "u"
                base-url: "{upstream.BaseUrl}"
                models: [{"{"}name: "up", alias: "m"{"}"}]
            """, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

        using var passthrough = await server.PostJsonAsync("/v1/chat/completions",
            """{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""");
        await passthrough.Content.ReadAsStringAsync();
        using var translated = await server.PostJsonAsync("/v1/messages", """{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}""");
        await translated.Content.ReadAsStringAsync();

        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Split('\n').Count(l => l.Contains("tokens=123/45")) == 2), "both access-log lines carry the tokens");
    }
}
