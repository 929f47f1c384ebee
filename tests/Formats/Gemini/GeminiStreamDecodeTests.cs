using System.Globalization;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Gemini;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

public sealed class GeminiStreamDecodeTests
{
    /// <summary>A Gemini 2.5 stream with thoughts, text, parallel calls and grounding, as streamGenerateContent?alt=sse sends it.</summary>
    public const string Transcript = """
        data: {"candidates": [{"content": {"parts": [{"text": "**Checking**\nI need the weather.","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 12,"totalTokenCount": 12},"modelVersion": "gemini-2.5-pro","responseId": "abc123","createTime": "2025-08-15T02:52:03.884209Z"}

        data: {"candidates": [{"content": {"parts": [{"text": "","thought": true,"thoughtSignature": "CiQB/+=sig"}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro","responseId": "abc123"}

        data: {"candidates": [{"content": {"parts": [{"text": "Hello "}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro","responseId": "abc123"}

        data: {"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro","responseId": "abc123"}

        data: {"candidates": [{"content": {"parts": [{"text": "world."},{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "FC-SIG"},{"functionCall": {"id": "t-2","name": "get_time","args": {}}}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro","responseId": "abc123"}

        data: {"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "STOP","index": 0,"groundingMetadata": {"webSearchQueries": ["paris weather"],"groundingChunks": [{"web": {"uri": "https://example.com","title": "example.com"}}]}}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 8,"totalTokenCount": 25,"thoughtsTokenCount": 5,"cachedContentTokenCount": 4},"modelVersion": "gemini-2.5-pro","responseId": "abc123"}


        """;

    internal static string Describe(StreamEvent e) => e switch
    {
        ResponseStarted s => $"started {s.Id} {s.Model} {s.Created}",
        TextDelta t => $"text {t.Choice} {t.Text}",
        ReasoningDelta r => $"reasoning {r.Choice} {r.Text}",
        ReasoningSignature s => $"signature {s.Choice} {s.Signature} {s.Dialect}",
        ToolCallStarted c => $"call {c.Choice}/{c.Index} {(c.Id.StartsWith("call_", StringComparison.Ordinal) ? "call_*" : c.Id)} {c.Name}"
            + (c.Signature is null ? "" : $" signed {c.Signature} {c.SignatureDialect}"),
        ToolCallArgumentsDelta a => $"args {a.Choice}/{a.Index} {a.Fragment}",
        ImageDelta i => $"image {i.Choice} {i.MediaType} {i.Data}",
        NativeDelta n => $"native {n.Choice} {JsonText.Serialize(n.Part.Json)}",
        GroundingReported g => $"grounding {g.Choice} {JsonText.Serialize(g.Metadata)}",
        ChoiceFinished f => $"finish {f.Choice} {f.Reason} {f.NativeReason}",
        UsageReported u => $"usage in={u.Usage.InputTokens} out={u.Usage.OutputTokens} cached={u.Usage.CachedInputTokens} reasoning={u.Usage.ReasoningTokens} total={u.Usage.TotalTokens}",
        ResponseCompleted => "completed",
        _ => e.GetType().Name,
    };

    private static List<string> Decode(string sse) => StreamHarness.Decode(GeminiCodec.Instance.CreateStreamDecoder(), sse).Select(Describe).ToList();

    [Fact]
    public void Decodes_a_realistic_stream()
    {
        var created = DateTimeOffset.Parse("2025-08-15T02:52:03Z", CultureInfo.InvariantCulture).ToUnixTimeSeconds();
        Assert.Equal(
        [
            $"started abc123 gemini-2.5-pro {created}",
            "reasoning 0 **Checking**\nI need the weather.",
            "usage in=12 out=0 cached=0 reasoning=0 total=12",
            "signature 0 CiQB/+=sig Gemini",
            "text 0 Hello ",
            "text 0 world.",
            "call 0/0 call_* get_weather signed FC-SIG Gemini",
            """args 0/0 {"city":"Paris"}""",
            "call 0/1 t-2 get_time",
            "args 0/1 {}",
            """grounding 0 {"webSearchQueries":["paris weather"],"groundingChunks":[{"web":{"uri":"https://example.com","title":"example.com"}}]}""",
            "usage in=12 out=13 cached=4 reasoning=5 total=25",
            "finish 0 ToolCalls STOP",
            "completed",
        ], Decode(Transcript));
    }

    [Fact]
    public void Decodes_images_code_execution_and_several_candidates()
    {
        var events = Decode("""
            data: {"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBOR"}}]},"index":0},{"content":{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"print(2)"}}]},"index":1}],"responseId":"r","modelVersion":"m"}

            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]},"finishReason":"MAX_TOKENS","index":0},{"content":{"role":"model","parts":[{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"2"}}]},"finishReason":"STOP","index":1}]}

            """);
        Assert.Equal(
        [
            "image 0 image/png iVBOR",
            """native 1 {"executableCode":{"language":"PYTHON","code":"print(2)"}}""",
            "text 0 a",
            """native 1 {"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"2"}}""",
            "finish 0 Length MAX_TOKENS",
            "finish 1 Stop STOP",
            "completed",
        ], events.Skip(1));
    }

    [Fact]
    public void Signature_only_parts_become_signatures_and_file_data_stays_native()
    {
        var events = Decode("""
            data: {"candidates":[{"content":{"role":"model","parts":[{"thought":true,"thoughtSignature":"s1"},{"thoughtSignature":"s2"},{"fileData":{"mimeType":"video/mp4","fileUri":"gs://b/v.mp4"},"thoughtSignature":"s3"}]},"finishReason":"STOP"}]}

            """);
        Assert.Equal(
        [
            "signature 0 s1 Gemini",
            "signature 0 s2 Gemini",
            """native 0 {"fileData":{"mimeType":"video/mp4","fileUri":"gs://b/v.mp4"},"thoughtSignature":"s3"}""",
            "finish 0 Stop STOP",
            "completed",
        ], events.Skip(1));
    }

    [Fact]
    public void A_blocked_prompt_finishes_with_content_filter()
    {
        var events = Decode("""
            data: {"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"modelVersion":"m","responseId":"r"}

            """);
        Assert.Equal(["started r m", "usage in=5 out=0 cached=0 reasoning=0 total=5", "finish 0 ContentFilter PROHIBITED_CONTENT", "completed"],
            events.Select(e => e.StartsWith("started", StringComparison.Ordinal) ? "started r m" : e));
    }

    [Fact]
    public void Completion_finishes_choices_the_upstream_left_open()
    {
        var events = Decode("""
            data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"index":0}],"responseId":"r","modelVersion":"m"}

            """);
        Assert.Equal(["call 0/0 call_* f", """args 0/0 {"a":1}""", "finish 0 ToolCalls ", "completed"], events.Skip(1));

        var empty = new List<StreamEvent>();
        GeminiCodec.Instance.CreateStreamDecoder().Complete(empty);
        Assert.IsType<ResponseStarted>(empty[0]);
        Assert.Equal(["finish 0 Stop ", "completed"], empty.Skip(1).Select(Describe));
    }

    [Fact]
    public void Generated_call_ids_are_unique()
    {
        var events = StreamHarness.Decode(GeminiCodec.Instance.CreateStreamDecoder(), """
            data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"f","args":{}}}]},"index":0}]}

            """);
        var ids = events.OfType<ToolCallStarted>().Select(c => c.Id).ToList();
        Assert.Equal(2, ids.Distinct().Count());
    }

    [Fact]
    public void Error_chunks_throw_upstream_exceptions()
    {
        var decoder = GeminiCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();
        decoder.Decode(new(null, """{"candidates":[{"content":{"parts":[{"text":"partial"}]}}]}"""), output);
        var error = Assert.Throws<UpstreamException>(() =>
            decoder.Decode(new(null, """{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"""), output));
        Assert.Equal((FailureKind.Transient, 503, "The model is overloaded."), (error.Kind, error.StatusCode, error.Message));
    }

    /// <summary>
    /// The SSE reader reuses its buffer once <c>Decode</c> returns: every event here is decoded from one buffer that is
    /// overwritten right after, so anything kept that pointed into it (or into the disposed document) would read junk
    /// or throw when the events are read at the end. Covers the JSON copied out (grounding, native parts), both
    /// framings, the Code Assist envelope and snake_case fields.
    /// </summary>
    [Fact]
    public void Events_outlive_the_overwritten_event_buffer()
    {
        const string transcript = """
            data: {"response":{"candidates":[{"content":{"role":"model","parts":[{"text":"Hmm","thought":true},{"thought_signature":"sig-1"}]},"index":0}],"responseId":"r9","modelVersion":"gemini-3-pro","createTime":"2025-08-15T02:52:03Z"}}

            data: [{"candidates":[{"content":{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"print(2)"}},{"inlineData":{"mimeType":"image/png","data":"iVBOR"}}]}}]},{"candidates":[{"content":{"role":"model","parts":[{"function_call":{"id":"c1","name":"f","args":{"q":["é",1]}},"thoughtSignature":"fc-sig"}]}}]}]

            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Done"}]},"finish_reason":"STOP","grounding_metadata":{"webSearchQueries":["q"]}}],"usage_metadata":{"prompt_token_count":3,"candidates_token_count":2,"thoughts_token_count":"1","total_token_count":6}}

            """;
        var decoder = GeminiCodec.Instance.CreateStreamDecoder();
        var events = StreamHarness.DecodeFromReusedBuffer(decoder, transcript);

        Assert.Equal(
        [
            "started r9 gemini-3-pro 1755226323",
            "reasoning 0 Hmm",
            "signature 0 sig-1 Gemini",
            """native 0 {"executableCode":{"language":"PYTHON","code":"print(2)"}}""",
            "image 0 image/png iVBOR",
            "call 0/0 c1 f signed fc-sig Gemini",
            """args 0/0 {"q":["é",1]}""",
            "text 0 Done",
            """grounding 0 {"webSearchQueries":["q"]}""",
            "usage in=3 out=3 cached=0 reasoning=1 total=6",
            "finish 0 ToolCalls STOP",
            "completed",
        ], events.Select(Describe));
    }

    /// <summary>An error chunk's body is the (unwrapped) chunk as compact JSON, in either framing, as it was from a DOM.</summary>
    [Theory]
    [InlineData("""{"response": {"error": {"code": 429, "message": "Quota épuisé", "status": "RESOURCE_EXHAUSTED"}}}""", 0)]
    [InlineData("""[{"candidates": [{"content": {"parts": [{"text": "a"}]}}]}, {"error": {"code": 429, "message": "Quota épuisé", "details": [{"@type": "x"}]}}]""", 1)]
    public void Error_chunks_keep_the_chunk_as_their_body(string data, int textEvents)
    {
        var decoder = GeminiCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();

        var error = Assert.Throws<UpstreamException>(() => decoder.Decode(new(null, data), output));

        var root = System.Text.Json.Nodes.JsonNode.Parse(data)!;
        var chunk = root is System.Text.Json.Nodes.JsonArray array ? array[^1]! : root["response"]!;
        Assert.Equal((FailureKind.Quota, 429, "Quota épuisé", JsonText.Serialize(chunk)), (error.Kind, error.StatusCode, error.Message, error.Body));
        Assert.Equal(textEvents, output.OfType<TextDelta>().Count());
    }

    [Fact]
    public void Unwraps_cloud_code_chunks_and_ignores_done_markers()
    {
        var events = Decode("""
            data: {"response":{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"responseId":"r","modelVersion":"m"}}

            data: [DONE]

            """);
        Assert.Equal(["text 0 hi", "finish 0 Stop STOP", "completed"], events.Skip(1));
    }
}
