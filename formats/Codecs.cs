using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Gemini;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Formats.OpenAIResponses;

namespace PluginProxy.Formats;

/// <summary>The codec for each dialect.</summary>
public static class Codecs
{
    public static IDialectCodec For(Dialect dialect) => dialect switch
    {
        Dialect.OpenAIChat => OpenAIChatCodec.Instance,
        Dialect.OpenAIResponses => OpenAIResponsesCodec.Instance,
        Dialect.Anthropic => AnthropicCodec.Instance,
        Dialect.Gemini => GeminiCodec.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, null),
    };

    public static IEnumerable<IDialectCodec> All =>
        [OpenAIChatCodec.Instance, OpenAIResponsesCodec.Instance, AnthropicCodec.Instance, GeminiCodec.Instance];
}
