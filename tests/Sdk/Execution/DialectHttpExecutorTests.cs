using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Sdk.Execution;
using PluginProxy.Tests.Sdk.Streaming;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Sdk.Execution;

/// <summary>The executor base against a fake upstream on loopback: cut streams, stream-only upstreams, bounded reads.</summary>
public sealed class DialectHttpExecutorTests : IAsyncLifetime
{
    private FakeUpstreamHost _upstream = null!;
    private readonly HttpClient _http = new();

    /// <summary>What the fake answers to <c>/generate</c> and <c>/stream</c>.</summary>
    private FakeReply? _generate;
    private FakeReply? _stream;

    public async Task InitializeAsync() =>
        _upstream = await FakeUpstreamHost.StartAsync((http, request) => (request.Path switch
        {
            "/generate" => _generate,
            "/stream" => _stream,
            _ => null,
        } ?? FakeReply.Error(500, """{"error":{"message":"fake upstream: nothing scripted"}}""")).WriteAsync(http, request));

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _upstream.DisposeAsync();
    }

    public static TheoryData<Dialect> Dialects => [Dialect.OpenAIChat, Dialect.Anthropic, Dialect.OpenAIResponses, Dialect.Gemini];

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task A_whole_stream_ends_with_ResponseCompleted(Dialect dialect)
    {
        _stream = FakeReply.Raw(200, "text/event-stream", Encoding.UTF8.GetBytes(SameAnswers.For(dialect).Sse));

        var events = await CollectAsync(new LoopbackExecutor(dialect, _upstream.Root).StreamAsync(Call(), Request(), CancellationToken.None));

        Assert.IsType<ResponseCompleted>(events[^1]);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task A_stream_the_upstream_cut_short_ends_with_a_transient_502_not_a_clean_end(Dialect dialect)
    {
        // The connection closes normally, but before the dialect's own end of stream.
        _stream = FakeReply.Raw(200, "text/event-stream", Encoding.UTF8.GetBytes(SameAnswers.For(dialect).CutSse));
        var events = new List<StreamEvent>();

        var e = await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var item in new LoopbackExecutor(dialect, _upstream.Root).StreamAsync(Call(), Request(), CancellationToken.None)) events.Add(item);
        });

        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Equal(502, e.StatusCode);
        Assert.Contains("ended early", e.Message);
        Assert.NotEmpty(events); // what arrived went out first
        Assert.DoesNotContain(events, x => x is ResponseCompleted);
    }

    [Fact]
    public async Task An_empty_stream_fails_on_its_first_event_so_the_host_can_try_elsewhere()
    {
        _stream = FakeReply.Sse([]);
        await using var events = new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root).StreamAsync(Call(), Request(), CancellationToken.None).GetAsyncEnumerator();

        var e = await Assert.ThrowsAsync<UpstreamException>(async () => await events.MoveNextAsync());
        Assert.Equal(502, e.StatusCode);
    }

    [Fact]
    public async Task An_OpenAI_stream_without_DONE_but_with_its_finish_reason_completes()
    {
        var reply = ChatReply.Text("Hel", "lo");
        _stream = FakeReply.Sse(reply.Chunks("m", includeUsage: true).Where(c => !c.Contains("[DONE]")));

        var answer = await StreamAggregatorFromExecutor(new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root));

        Assert.Equal("Hello", ((TextPart)answer.Choices.Single().Parts.Single()).Text);
        Assert.Equal(FinishReason.Stop, answer.Choices[0].FinishReason);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task A_streams_only_executor_answers_CompleteAsync_from_the_stream(Dialect dialect)
    {
        var answer = SameAnswers.For(dialect);
        _stream = FakeReply.Raw(200, "text/event-stream", Encoding.UTF8.GetBytes(answer.Sse));
        var executor = new LoopbackExecutor(dialect, _upstream.Root, streamsOnly: true);

        var response = await executor.CompleteAsync(Call(), Request(), CancellationToken.None);

        Assert.True(((IExecutor)executor).StreamsOnly);
        Assert.Equal(["/stream"], _upstream.Requests.Select(r => r.Path));
        var expected = Codecs.For(dialect).DecodeResponse(JsonNode.Parse(answer.Body)!);
        StreamAggregatorTests.Normalize(dialect, expected);
        StreamAggregatorTests.Normalize(dialect, response);
        ResponseJson.Equal(expected, response);
    }

    [Fact]
    public async Task A_streams_only_executor_fails_CompleteAsync_when_the_stream_is_cut()
    {
        _stream = FakeReply.Raw(200, "text/event-stream", Encoding.UTF8.GetBytes(SameAnswers.Anthropic.CutSse));

        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            new LoopbackExecutor(Dialect.Anthropic, _upstream.Root, streamsOnly: true).CompleteAsync(Call(), Request(), CancellationToken.None));

        Assert.Equal(502, e.StatusCode);
        Assert.Equal(FailureKind.Transient, e.Kind);
    }

    [Fact]
    public async Task Other_executors_answer_CompleteAsync_from_the_non_streaming_endpoint()
    {
        _generate = FakeReply.Raw(200, "application/json", Encoding.UTF8.GetBytes(SameAnswers.Gemini.Body));

        var response = await new LoopbackExecutor(Dialect.Gemini, _upstream.Root).CompleteAsync(Call(), Request(), CancellationToken.None);

        Assert.Equal(["/generate"], _upstream.Requests.Select(r => r.Path));
        Assert.Equal(2, response.Choices.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_answer_over_the_limit_fails_with_a_transient_502(bool withContentLength)
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":""" + "\"" + new string('a', 3000) + "\"}}]}");
        _generate = new BodyReply(body, withContentLength);

        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root, maxAnswerBytes: 2048).CompleteAsync(Call(), Request(), CancellationToken.None));

        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Equal(502, e.StatusCode);
        Assert.Equal("upstream answer exceeds 2 KiB", e.Message);
    }

    [Fact]
    public async Task An_answer_exactly_at_the_limit_is_read()
    {
        var json = """{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}""";
        var body = Encoding.UTF8.GetBytes(json + new string(' ', 2048 - json.Length));
        _generate = new BodyReply(body, withContentLength: false);

        var response = await new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root, maxAnswerBytes: 2048).CompleteAsync(Call(), Request(), CancellationToken.None);

        Assert.Equal("hi", ((TextPart)response.Choices[0].Parts[0]).Text);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_a_transient_502()
    {
        _generate = FakeReply.Raw(200, "text/html", "<html>gateway</html>"u8.ToArray());

        var e = await Assert.ThrowsAsync<UpstreamException>(() => new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root).CompleteAsync(Call(), Request(), CancellationToken.None));

        Assert.Equal(502, e.StatusCode);
        Assert.Contains("not JSON", e.Message);
    }

    [Fact]
    public async Task Only_the_start_of_a_long_error_body_is_kept_and_it_is_still_classified()
    {
        var padding = new string('p', 10_000);
        var body = "{\"error\":{\"message\":\"quota used up\",\"type\":\"rate_limit_error\",\"padding\":\"" + padding + "\"}}";
        _generate = FakeReply.Error(429, body, new Dictionary<string, string> { ["Retry-After"] = "7" });

        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root, maxErrorBodyBytes: 100).CompleteAsync(Call(), Request(), CancellationToken.None));

        Assert.Equal(FailureKind.Quota, e.Kind);
        Assert.Equal(429, e.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
        Assert.NotNull(e.Body);
        Assert.Equal(100, Encoding.UTF8.GetByteCount(e.Body));
        Assert.StartsWith("""{"error":{"message":"quota used up""", e.Body);
    }

    [Fact]
    public async Task A_stream_event_over_the_limit_fails_with_a_transient_502()
    {
        _stream = FakeReply.Sse(["data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('b', 5000) + "\"}}]}\n\n", "data: [DONE]\n\n"]);
        var executor = new LoopbackExecutor(Dialect.OpenAIChat, _upstream.Root, maxStreamEventBytes: 1024);

        var e = await Assert.ThrowsAsync<UpstreamException>(() => CollectAsync(executor.StreamAsync(Call(), Request(), CancellationToken.None)));

        Assert.Equal(502, e.StatusCode);
        Assert.Contains("exceeds 1 KiB", e.Message);
    }

    private async Task<ChatResponse> StreamAggregatorFromExecutor(DialectHttpExecutor executor) =>
        await PluginProxy.Sdk.Streaming.StreamAggregator.AggregateAsync(executor.StreamAsync(Call(), Request(), CancellationToken.None), CancellationToken.None);

    private static async Task<List<StreamEvent>> CollectAsync(IAsyncEnumerable<StreamEvent> events)
    {
        var list = new List<StreamEvent>();
        await foreach (var e in events) list.Add(e);
        return list;
    }

    private UpstreamCall Call() => new()
    {
        Credential = new CredentialRecord { Id = "c1", Type = "test", Provider = "test", Label = "test-account" },
        UpstreamModel = "m",
        Http = _http,
        Log = new NoLog(),
    };

    private static ChatRequest Request() => new() { Model = "m", Messages = [new Message(Role.User, new TextPart("hi"))] };

    /// <summary>An executor of any dialect whose upstream is the fake: <c>/generate</c> and <c>/stream</c>.</summary>
    private sealed class LoopbackExecutor : DialectHttpExecutor
    {
        private readonly Uri _root;
        private readonly bool _streamsOnly;

        public LoopbackExecutor(Dialect dialect, Uri root, bool streamsOnly = false, int? maxAnswerBytes = null, int? maxErrorBodyBytes = null,
            int? maxStreamEventBytes = null) : base(dialect)
        {
            _root = root;
            _streamsOnly = streamsOnly;
            if (maxAnswerBytes is { } answer) MaxAnswerBytes = answer;
            if (maxErrorBodyBytes is { } error) MaxErrorBodyBytes = error;
            if (maxStreamEventBytes is { } streamEvent) MaxStreamEventBytes = streamEvent;
        }

        public override bool StreamsOnly => _streamsOnly;

        protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query) =>
            new(HttpMethod.Post, Combine(_root.ToString(), operation == UpstreamOperation.Stream ? "stream" : "generate"));
    }

    /// <summary>A 200 JSON body, with or without a Content-Length header (without, Kestrel sends it chunked).</summary>
    private sealed class BodyReply(byte[] body, bool withContentLength) : FakeReply
    {
        public override async Task WriteAsync(HttpContext http, RecordedRequest request)
        {
            http.Response.StatusCode = 200;
            http.Response.ContentType = "application/json";
            if (withContentLength) http.Response.ContentLength = body.Length;
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        }
    }

    private sealed class NoLog : IPluginLog
    {
        public void Debug(string template, params object?[] args) { }
        public void Info(string template, params object?[] args) { }
        public void Warn(string template, params object?[] args) { }
        public void Error(Exception? exception, string template, params object?[] args) { }
    }
}
