using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Formats.Sse;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class StreamDecodeTests
{
    private static List<string> Decode(string sse) => Describe(StreamHarness.Decode(OpenAIChatCodec.Instance.CreateStreamDecoder(), sse));

    [Fact]
    public void OpenAITranscriptWithParallelToolCallsAndTrailingUsage()
    {
        const string sse = """
            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"Checking both."},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_paris","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_rome","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}},{"index":1,"function":{"arguments":"\"Rome\"}"}}]},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

            data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1-2025-04-14","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":40,"total_tokens":122,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":0}}}

            data: [DONE]


            """;

        Assert.Equal(
        [
            "started chatcmpl-A1 gpt-4.1-2025-04-14 1735689600",
            "text 0 Checking both.",
            // Interleaved calls are serialised: Rome waits until Paris's arguments are complete.
            "call 0 0 call_paris get_weather",
            "args 0 0 {\"city\":",
            "args 0 0 \"Paris\"}",
            "call 0 1 call_rome get_weather",
            "args 0 1 {\"city\":",
            "args 0 1 \"Rome\"}",
            "finish 0 ToolCalls tool_calls",
            "usage in=82 out=40 cached=64 reasoning=0 total=122",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void ReasoningFieldsUsageOnFinishChunkAndMissingId()
    {
        const string sse = """
            data: {"object":"chat.completion.chunk","created":1735689600,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me "},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"reasoning":"think."},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"reasoning_content":"","content":"42"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"completion_tokens_details":{"reasoning_tokens":4}}}

            """;

        var events = Decode(sse);

        Assert.Matches("^started chatcmpl-[0-9a-f]{32} deepseek-reasoner 1735689600$", events[0]);
        Assert.Equal(
        [
            "reasoning 0 Let me ",
            "reasoning 0 think.",
            "text 0 42",
            "finish 0 Length length",
            "usage in=5 out=7 cached=0 reasoning=4 total=12",
            "completed",
        ], events[1..]);
    }

    [Fact]
    public void SignatureInThinkingBlocksIsKeptWithoutRepeatingText()
    {
        const string sse = """
            data: {"id":"x","model":"claude-via-litellm","created":1,"choices":[{"index":0,"delta":{"reasoning_content":"Hmm","thinking_blocks":[{"type":"thinking","thinking":"Hmm"}]}}]}

            data: {"id":"x","model":"claude-via-litellm","created":1,"choices":[{"index":0,"delta":{"thinking_blocks":[{"type":"thinking","thinking":"","signature":"EqQB+/=\u00e9"}]}}]}

            data: {"id":"x","model":"claude-via-litellm","created":1,"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}

            """;

        Assert.Equal(
        [
            "started x claude-via-litellm 1",
            "reasoning 0 Hmm",
            "signature 0 OpenAIChat EqQB+/=\u00e9",
            "text 0 Hi",
            "finish 0 Stop stop",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void ToolCallNameArrivingAfterArgumentsAndIndexReuseByNewId()
    {
        // Some compatible servers send argument text before the name, or reuse index 0 for every call.
        const string sse = """
            data: {"id":"g","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"arguments":"{\"a\":1}"}}]}}]}

            data: {"id":"g","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"first"}}]}}]}

            data: {"id":"g","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"second","arguments":{"b":2}}}]}}]}

            data: {"id":"g","model":"m","created":1,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

            """;

        Assert.Equal(
        [
            "started g m 1",
            "call 0 0 call_1 first",
            "args 0 0 {\"a\":1}",
            "call 0 1 call_2 second",
            "args 0 1 {\"b\":2}",
            "finish 0 Stop stop",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void ACallWaitingBehindIncompleteArgumentsStartsWhenTheChoiceMovesOn()
    {
        // The first call's arguments never become valid JSON: the second call waits until text (or the finish) arrives.
        const string sse = """
            data: {"id":"w","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\"a\":"}}]}}]}

            data: {"id":"w","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"g","arguments":"{}"}}]}}]}

            data: {"id":"w","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"done"}}]}

            data: {"id":"w","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"c3","function":{"name":"h","arguments":"{\"b\":"}}]}}]}

            data: {"id":"w","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":3,"id":"c4","function":{"name":"k","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}

            """;

        Assert.Equal(
        [
            "started w m 1",
            "call 0 0 c1 f",
            "args 0 0 {\"a\":",
            "call 0 1 c2 g",
            "args 0 1 {}",
            "text 0 done",
            "call 0 2 c3 h",
            "args 0 2 {\"b\":",
            "call 0 3 c4 k",
            "args 0 3 {}",
            "finish 0 ToolCalls tool_calls",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void SeveralChoicesAndAStreamThatNeverFinishes()
    {
        const string sse = """
            data: {"id":"n2","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"A"}},{"index":1,"delta":{"content":"B"}}]}

            data: {"id":"n2","model":"m","created":1,"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}

            """;

        Assert.Equal(
        [
            "started n2 m 1",
            "text 0 A",
            "text 1 B",
            "call 1 0 c f",
            "args 1 0 {}",
            "finish 0 Stop ",
            "finish 1 ToolCalls ",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void GeminiBridgeGroundingAndImages()
    {
        const string sse = """
            data: {"id":"r","model":"gemini-2.5-flash-image","created":1,"choices":[{"index":0,"delta":{"role":"assistant","images":[{"index":0,"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]},"finish_reason":null}]}

            data: {"id":"r","model":"gemini-2.5-flash-image","created":1,"choices":[{"index":0,"delta":{"content":"Done"},"finish_reason":"stop","grounding_metadata":{"webSearchQueries":["q"]}}]}

            """;

        Assert.Equal(
        [
            "started r gemini-2.5-flash-image 1",
            "image 0 image/png iVBOR",
            "text 0 Done",
            "grounding 0 {\"webSearchQueries\":[\"q\"]}",
            "finish 0 Stop stop",
            "completed",
        ], Decode(sse));
    }

    [Fact]
    public void EmptyStreamStillCompletes()
    {
        Assert.Equal(["completed"], Decode("data: [DONE]\n\n"));
    }

    [Fact]
    public void ErrorChunkThrowsUpstreamException()
    {
        var decoder = OpenAIChatCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();
        decoder.Decode(new SseEvent(null, """{"id":"x","choices":[{"index":0,"delta":{"content":"par"}}]}"""), output);

        var error = Assert.Throws<UpstreamException>(() =>
            decoder.Decode(new SseEvent(null, """{"error":{"message":"The server had an error","type":"server_error","code":null}}"""), output));

        Assert.Equal((502, FailureKind.Transient, "The server had an error"), (error.StatusCode, error.Kind, error.Message));
        Assert.Equal(2, output.Count);
    }

    [Fact]
    public void DecodedStreamReEncodesToTheSameChunks()
    {
        const string sse = """
            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}

            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}

            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":null}]}

            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

            data: {"id":"chatcmpl-RT","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}

            data: [DONE]


            """;

        var events = StreamHarness.Decode(OpenAIChatCodec.Instance.CreateStreamDecoder(), sse);
        var encoded = StreamHarness.Encode(OpenAIChatCodec.Instance.CreateStreamEncoder(new ChatRequest { Stream = true, IncludeUsage = true }), events);

        Assert.Equal(sse.ReplaceLineEndings("\n").TrimEnd('\n') + "\n\n", encoded);
    }
}
