using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class ErrorAndTokenCountTests
{
    private static readonly AnthropicCodec Codec = AnthropicCodec.Instance;

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(422, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(529, "overloaded_error")]
    public void EncodeError_TypeFollowsStatus(int status, string type)
    {
        JsonAssert.Equal($$$"""{"type":"error","error":{"type":"{{{type}}}","message":"boom"}}""", Codec.EncodeError(status, "boom"));
    }

    [Fact]
    public void EncodeError_AnthropicErrorTypeAsCodeWins_OtherCodesIgnored()
    {
        Assert.Equal("overloaded_error", Codec.EncodeError(503, "busy", "overloaded_error")["error"]!["type"]!.GetValue<string>());
        Assert.Equal("rate_limit_error", Codec.EncodeError(429, "slow down", "model_cooldown")["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void EncodeTokenCount_IsInputTokens()
    {
        JsonAssert.Equal("""{"input_tokens":1234}""", Codec.EncodeTokenCount(1234));
    }

    [Fact]
    public void Codec_IsRegisteredForTheAnthropicDialect()
    {
        Assert.Same(Codec, Codecs.For(Dialect.Anthropic));
        Assert.Equal(Dialect.Anthropic, Codec.Dialect);
    }
}
