using System.Text;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Formats.Sse;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

/// <summary>The stream decoder reads each event's UTF-8 bytes in place (a view of the SSE reader's buffer).</summary>
public class StreamDecodeBytesTests
{
    /// <summary>
    /// The reader reuses its buffer for the next event as soon as Decode returns: everything the decoded events keep
    /// (strings, grounding JSON) must be copied out, never a view of the bytes or of the disposed document.
    /// </summary>
    [Fact]
    public void Events_outlive_the_buffer_they_were_decoded_from()
    {
        var decoder = OpenAIChatCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();

        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"id":"chatcmpl-B","model":"m","created":7,"choices":[{"index":0,"delta":{"reasoning_content":"Think","content":"Hé \u2014 ok"}}]}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"id":"chatcmpl-B","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","function":{"name":"f","arguments":{"q":"x"}}}]}}]}""");
        StreamHarness.DecodeThenOverwrite(decoder, output, null, """{"id":"chatcmpl-B","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls","grounding_metadata":{"webSearchQueries":["q"],"n":1.50}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":1}}}""");
        decoder.Complete(output);

        Assert.Equal(
        [
            "started chatcmpl-B m 7",
            "reasoning 0 Think",
            "text 0 Hé — ok",
            "call 0 0 call_9 f",
            "args 0 0 {\"q\":\"x\"}",
            "grounding 0 {\"webSearchQueries\":[\"q\"],\"n\":1.50}",
            "finish 0 ToolCalls tool_calls",
            "usage in=3 out=4 cached=1 reasoning=0 total=7",
            "completed",
        ], Describe(output));
    }

    /// <summary>Entries of the wrong shape, where the DOM's indexers threw, read as absent: the rest of the chunk still decodes.</summary>
    [Fact]
    public void Entries_of_the_wrong_shape_are_skipped()
    {
        var decoder = OpenAIChatCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();

        decoder.Decode(new SseEvent(null, """{"id":"c","model":"m","created":1,"error":null,"choices":[{"index":0,"delta":{"content":["loose",{"text":"kept"},null],"thinking_blocks":["x",{"thinking":"t"}],"images":[{"image_url":"data:image/png;base64,AA"},7]}}]}"""), output);
        decoder.Decode(new SseEvent(null, """{"choices":["x",{"index":0,"delta":{"tool_calls":["y",{"index":0,"id":"call_1","function":"f"},{"index":0,"function":{"name":"g","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"prompt_tokens_details":5,"completion_tokens_details":[]}}"""), output);
        decoder.Complete(output);

        Assert.Equal(
        [
            "started c m 1",
            "reasoning 0 t",
            "text 0 kept",
            "call 0 0 call_1 g",
            "args 0 0 {}",
            "finish 0 Stop stop",
            "usage in=2 out=1 cached=0 reasoning=0 total=",
            "completed",
        ], Describe(output));
    }

    /// <summary>Bytes that are not UTF-8 read with replacement characters, as when the data was decoded to a string first.</summary>
    [Fact]
    public void Invalid_utf8_reads_with_replacement_characters()
    {
        var decoder = OpenAIChatCodec.Instance.CreateStreamDecoder();
        var output = new List<StreamEvent>();
        byte[] data = [.. """{"id":"c","choices":[{"index":0,"delta":{"content":"a"""u8, 0xC3, 0x28, .. """b"}}]}"""u8];

        decoder.Decode(new SseEvent(null, data), output);

        Assert.Equal("a\uFFFD(b", Assert.IsType<TextDelta>(output[1]).Text);
    }
}
