using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

public sealed class ErrorAndTokenCountTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "server_error")]
    [InlineData(503, "server_error")]
    public void Error_type_follows_the_status(int status, string type)
    {
        JsonAssert.Equal($$$"""{"error":{"message":"boom","type":"{{{type}}}","param":null,"code":null}}""", Codec.EncodeError(status, "boom"));
    }

    [Fact]
    public void Error_keeps_a_given_code()
    {
        JsonAssert.Equal("""{"error":{"message":"unknown model x","type":"invalid_request_error","param":null,"code":"model_not_found"}}""",
            Codec.EncodeError(404, "unknown model x", "model_not_found"));
    }

    [Fact]
    public void Token_count_has_the_input_tokens_shape()
    {
        JsonAssert.Equal("""{"object":"response.input_tokens","input_tokens":1234}""", Codec.EncodeTokenCount(1234));
    }

    [Fact]
    public void Is_the_registered_responses_codec()
    {
        Assert.Same(Codec, Codecs.For(Dialect.OpenAIResponses));
        Assert.Equal(Dialect.OpenAIResponses, Codec.Dialect);
    }
}
