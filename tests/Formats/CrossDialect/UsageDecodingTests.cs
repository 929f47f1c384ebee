using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>
/// <c>IDialectCodec.DecodeUsage</c> (what passthrough reads from an answer) reads a usage object exactly as
/// <c>DecodeResponse</c> reads it inside a whole answer, in every dialect.
/// </summary>
public sealed class UsageDecodingTests
{
    public static TheoryData<Dialect, string, string> Answers => new()
    {
        { Dialect.OpenAIChat, "usage",
            """{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":12}}""" },
        { Dialect.OpenAIResponses, "usage",
            """{"input_tokens":120,"input_tokens_details":{"cached_tokens":100},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":160}""" },
        { Dialect.Anthropic, "usage",
            """{"input_tokens":20,"cache_read_input_tokens":90,"cache_creation_input_tokens":10,"output_tokens":40}""" },
        { Dialect.Gemini, "usageMetadata",
            """{"promptTokenCount":120,"toolUsePromptTokenCount":5,"candidatesTokenCount":28,"thoughtsTokenCount":12,"cachedContentTokenCount":100,"totalTokenCount":165}""" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void A_usage_object_alone_decodes_as_it_does_inside_the_answer(Dialect dialect, string name, string usage)
    {
        var codec = Codecs.For(dialect);
        var whole = codec.DecodeResponse(Answer(dialect, name, usage)).Usage;
        var alone = codec.DecodeUsage(JsonNode.Parse(usage));

        Assert.NotNull(whole);
        Assert.NotNull(alone);
        Assert.Equal(Fields(whole), Fields(alone));
        Assert.True(alone.InputTokens >= 100 && alone.OutputTokens == 40, $"{dialect}: {Fields(alone)}"); // the fixture's numbers were read
        Assert.Null(codec.DecodeUsage(JsonValue.Create(3)));
        Assert.Null(codec.DecodeUsage(null));
    }

    private static string Fields(Usage u) =>
        $"in={u.InputTokens} out={u.OutputTokens} reasoning={u.ReasoningTokens} cached={u.CachedInputTokens} creation={u.CacheCreationInputTokens} total={u.Total}";

    private static JsonNode Answer(Dialect dialect, string name, string usage) => JsonNode.Parse(dialect switch
    {
        Dialect.OpenAIChat => $$"""{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"{{name}}":{{usage}}}""",
        Dialect.OpenAIResponses => $$"""{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],"{{name}}":{{usage}}}""",
        Dialect.Anthropic => $$"""{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","{{name}}":{{usage}}}""",
        _ => $$"""{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"{{name}}":{{usage}}}""",
    })!;
}
