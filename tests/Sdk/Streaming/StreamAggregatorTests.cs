using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Sdk.Streaming;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Sdk.Streaming;

public class StreamAggregatorTests
{
    public static TheoryData<Dialect> Dialects => [Dialect.OpenAIChat, Dialect.Anthropic, Dialect.OpenAIResponses, Dialect.Gemini];

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task The_same_answer_streamed_and_not_streamed_gives_equal_responses(Dialect dialect)
    {
        var answer = SameAnswers.For(dialect);
        var codec = Codecs.For(dialect);

        var whole = codec.DecodeResponse(JsonNode.Parse(answer.Body)!);
        var streamed = await StreamAggregator.AggregateAsync(Decode(codec, answer.Sse), CancellationToken.None);

        Normalize(dialect, whole);
        Normalize(dialect, streamed);
        ResponseJson.Equal(whole, streamed);
        // The comparison is only worth something if the answer has what it is meant to cover.
        var parts = streamed.Choices.SelectMany(c => c.Parts).ToList();
        Assert.Contains(parts, p => p is TextPart);
        Assert.Contains(parts, p => p is ToolCallPart { Arguments.Length: > 2 });
        Assert.Contains(parts, p => p is ReasoningPart { Signature: not null } && ((ReasoningPart)p).SignatureDialect == dialect);
        Assert.Contains(streamed.Choices, c => c.GroundingMetadata is not null);
        Assert.NotNull(streamed.Usage);
        if (dialect is Dialect.OpenAIChat or Dialect.Gemini) Assert.Equal(2, streamed.Choices.Count);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task A_stream_cut_before_its_terminal_event_is_an_error(Dialect dialect)
    {
        var answer = SameAnswers.For(dialect);
        var codec = Codecs.For(dialect);

        var cut = await Assert.ThrowsAsync<UpstreamException>(() => StreamAggregator.AggregateAsync(Decode(codec, answer.CutSse), CancellationToken.None));

        Assert.Equal(FailureKind.Transient, cut.Kind);
        Assert.Equal(502, cut.StatusCode);
        Assert.Contains("ended early", cut.Message);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Decoders_tell_whether_the_upstreams_own_end_arrived(Dialect dialect)
    {
        var answer = SameAnswers.For(dialect);

        Assert.True(Fed(Codecs.For(dialect).CreateStreamDecoder(), answer.Sse).EndedCleanly);
        Assert.False(Fed(Codecs.For(dialect).CreateStreamDecoder(), answer.CutSse).EndedCleanly);
        // Before anything arrived, nothing has ended.
        Assert.False(Codecs.For(dialect).CreateStreamDecoder().EndedCleanly);
    }

    [Fact]
    public void OpenAI_streams_without_DONE_end_cleanly_once_every_choice_has_a_finish_reason()
    {
        var answer = SameAnswers.OpenAIChat;
        var withoutDone = string.Concat(answer.Events.Where(e => e != "data: [DONE]\n\n"));
        Assert.True(Fed(Codecs.For(Dialect.OpenAIChat).CreateStreamDecoder(), withoutDone).EndedCleanly);

        // [DONE] alone ends a stream, even one without finish reasons.
        var doneOnly = string.Concat(answer.Events.Take(3)) + "data: [DONE]\n\n";
        Assert.True(Fed(Codecs.For(Dialect.OpenAIChat).CreateStreamDecoder(), doneOnly).EndedCleanly);
    }

    [Fact]
    public void Anthropic_streams_end_cleanly_at_the_stop_reason_or_message_stop()
    {
        var events = SameAnswers.Anthropic.Events;
        Assert.True(Fed(Codecs.For(Dialect.Anthropic).CreateStreamDecoder(), string.Concat(events.Take(22))).EndedCleanly); // message_delta, no message_stop
        Assert.True(Fed(Codecs.For(Dialect.Anthropic).CreateStreamDecoder(), string.Concat(events.Take(21)) + events[22]).EndedCleanly); // message_stop only
    }

    [Fact]
    public void Responses_streams_end_cleanly_on_response_incomplete()
    {
        const string sse = """
            data: {"type":"response.created","response":{"id":"resp_1","created_at":1,"model":"m"}}

            data: {"type":"response.output_text.delta","output_index":0,"delta":"Hi"}

            data: {"type":"response.incomplete","response":{"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}


            """;
        Assert.True(Fed(Codecs.For(Dialect.OpenAIResponses).CreateStreamDecoder(), sse).EndedCleanly);
        Assert.False(Fed(Codecs.For(Dialect.OpenAIResponses).CreateStreamDecoder(), sse.Replace("response.incomplete", "response.in_progress")).EndedCleanly);
    }

    [Fact]
    public void A_gemini_stream_ends_cleanly_only_when_every_candidate_has_finished()
    {
        var events = SameAnswers.Gemini.Events;
        // Only candidate 0 started and it has not finished.
        Assert.False(Fed(Codecs.For(Dialect.Gemini).CreateStreamDecoder(), string.Concat(events.Take(2))).EndedCleanly);
        // A blocked prompt is an end too.
        Assert.True(Fed(Codecs.For(Dialect.Gemini).CreateStreamDecoder(), """data: {"promptFeedback":{"blockReason":"SAFETY"}}""" + "\n\n").EndedCleanly);
    }

    [Fact]
    public void Deltas_of_one_kind_join_and_signatures_close_the_reasoning_before_them()
    {
        var aggregator = new StreamAggregator();
        foreach (var e in new StreamEvent[]
        {
            new ResponseStarted("r1", "m1", 42),
            new ReasoningDelta(0, "a"), new ReasoningDelta(0, "b"), new ReasoningSignature(0, "s1", Dialect.Anthropic),
            new ReasoningDelta(0, "c"), new ReasoningSignature(0, "s2", Dialect.Anthropic),
            new ReasoningSignature(0, "s3", Dialect.Anthropic), // nothing open: stands alone
            new RedactedReasoning(0, "opaque"),
            new TextDelta(0, "x"), new TextDelta(0, "y"),
            new ToolCallStarted(0, 0, "call_a", "f", "sigA", Dialect.Gemini),
            new ToolCallStarted(1, 0, "call_b", "g"),
            new ToolCallArgumentsDelta(0, 0, "{\"k\":"), new ToolCallArgumentsDelta(1, 0, "{}"), new ToolCallArgumentsDelta(0, 0, "1}"),
            new ToolCallStarted(0, 1, "call_c", "h"), // no arguments at all
            new TextDelta(0, "z"),
            new ImageDelta(1, "image/png", "AAA"), new ImageDelta(1, "application/pdf", "BBB"),
            new NativeDelta(1, new NativePart(Dialect.Gemini, new JsonObject { ["executableCode"] = new JsonObject() })),
            new GroundingReported(1, new JsonObject { ["v"] = 1 }), new GroundingReported(1, new JsonObject { ["v"] = 2 }),
            new UsageReported(new Usage { InputTokens = 1 }), new UsageReported(new Usage { InputTokens = 5, OutputTokens = 3 }),
            new ChoiceFinished(1, FinishReason.Length, "length"), new ChoiceFinished(0, FinishReason.ToolCalls),
            ResponseCompleted.Instance,
            new TextDelta(0, "after the end"),
        })
        {
            aggregator.Add(e);
        }

        Assert.True(aggregator.IsComplete);
        JsonAssert.Equal("""
            {"id":"r1","model":"m1","created":42,
             "usage":{"input":5,"output":3,"cached":0,"cacheCreation":0,"reasoning":0,"total":null},"extensions":{},
             "choices":[
              {"index":0,"finish":"ToolCalls","nativeFinish":null,"grounding":null,"parts":[
                {"reasoning":"ab","signature":"s1","signatureDialect":"Anthropic","redacted":null},
                {"reasoning":"c","signature":"s2","signatureDialect":"Anthropic","redacted":null},
                {"reasoning":"","signature":"s3","signatureDialect":"Anthropic","redacted":null},
                {"reasoning":"","signature":null,"signatureDialect":null,"redacted":"opaque"},
                {"text":"xy"},
                {"call":"call_a","name":"f","arguments":{"k":1},"signature":"sigA","signatureDialect":"Gemini"},
                {"call":"call_c","name":"h","arguments":{},"signature":null,"signatureDialect":null},
                {"text":"z"}]},
              {"index":1,"finish":"Length","nativeFinish":"length","grounding":{"v":2},"parts":[
                {"call":"call_b","name":"g","arguments":{},"signature":null,"signatureDialect":null},
                {"image":"image/png","data":"AAA","url":null},
                {"document":"application/pdf","data":"BBB","url":null},
                {"native":"Gemini","json":{"executableCode":{}}}]}]}
            """, ResponseJson.Of(aggregator.ToResponse()));
    }

    [Fact]
    public void A_gemini_signature_after_text_signs_that_text_and_later_text_is_a_new_part()
    {
        var aggregator = new StreamAggregator();
        aggregator.Add(new TextDelta(0, "a"));
        aggregator.Add(new ReasoningSignature(0, "g1", Dialect.Gemini));
        aggregator.Add(new TextDelta(0, "b"));
        aggregator.Add(new ReasoningSignature(0, "o1", Dialect.OpenAIResponses)); // other dialects never sign text
        aggregator.Add(ResponseCompleted.Instance);

        var parts = aggregator.ToResponse().Choices.Single().Parts;
        Assert.Equal(3, parts.Count);
        Assert.Equal("a", ((TextPart)parts[0]).Text);
        Assert.Equal("g1", (string?)parts[0].Extensions!["gemini.thoughtSignature"]);
        Assert.Equal("b", ((TextPart)parts[1]).Text);
        Assert.Null(parts[1].Extensions);
        Assert.Equal("o1", ((ReasoningPart)parts[2]).Signature);
    }

    [Fact]
    public void Without_ResponseCompleted_ToResponse_throws_a_transient_502()
    {
        var aggregator = new StreamAggregator();
        aggregator.Add(new ResponseStarted("r", "m", 1));
        aggregator.Add(new TextDelta(0, "partial"));
        aggregator.Add(new ChoiceFinished(0, FinishReason.Stop));

        Assert.False(aggregator.IsComplete);
        var e = Assert.Throws<UpstreamException>(aggregator.ToResponse);
        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Equal(502, e.StatusCode);
    }

    [Fact]
    public async Task AggregateAsync_passes_on_a_failure_of_the_stream()
    {
        var failure = new UpstreamException(FailureKind.Quota, 429, "slow down");
        var thrown = await Assert.ThrowsAsync<UpstreamException>(() => StreamAggregator.AggregateAsync(Failing(failure), CancellationToken.None));
        Assert.Same(failure, thrown);

        static async IAsyncEnumerable<StreamEvent> Failing(Exception e)
        {
            yield return new TextDelta(0, "x");
            await Task.Yield();
            throw e;
        }
    }

    /// <summary>The canonical events a dialect's upstream stream decodes to, ending cut streams with an error like the executor does.</summary>
    internal static IAsyncEnumerable<StreamEvent> Decode(IDialectCodec codec, string sse) =>
        SseDecoding.DecodeAsync(new MemoryStream(Encoding.UTF8.GetBytes(sse)), codec.CreateStreamDecoder());

    private static IStreamDecoder Fed(IStreamDecoder decoder, string sse)
    {
        var output = new List<StreamEvent>();
        foreach (var e in StreamHarness.ParseSse(sse)) decoder.Decode(e, output);
        return decoder;
    }

    /// <summary>
    /// What a stream cannot carry, set aside before comparing: Anthropic has no creation time, so both sides use "now";
    /// Responses item ids (<c>responses.id</c> on parts) have no canonical stream event.
    /// </summary>
    internal static void Normalize(Dialect dialect, ChatResponse response)
    {
        if (dialect == Dialect.Anthropic) response.Created = 0;
        if (dialect != Dialect.OpenAIResponses) return;
        foreach (var part in response.Choices.SelectMany(c => c.Parts))
        {
            part.Extensions?.Remove("responses.id");
            if (part.Extensions is { Count: 0 }) part.Extensions = null;
        }
    }
}
