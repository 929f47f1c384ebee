using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;

namespace PluginProxy.Tests.Formats.CrossDialect;

public sealed class BodyShapeTests
{
    /// <summary>Plugins hold codecs too: a body that is not an object is the caller's bad input, in every dialect.</summary>
    [Theory]
    [InlineData(Dialect.OpenAIChat, "[]")]
    [InlineData(Dialect.OpenAIResponses, "\"hi\"")]
    [InlineData(Dialect.Anthropic, "[]")]
    [InlineData(Dialect.Gemini, "7")]
    public void A_body_that_is_not_an_object_is_a_request_format_error(Dialect dialect, string body)
    {
        using var document = JsonDocument.Parse(body);

        Assert.Throws<RequestFormatException>(() => Codecs.For(dialect).DecodeRequest(document.RootElement));
    }
}
