using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class ErrorAndTokenCountTests
{
    [Theory]
    [InlineData(400, null, """{"error":{"message":"bad","type":"invalid_request_error","code":null}}""")]
    [InlineData(401, null, """{"error":{"message":"bad","type":"authentication_error","code":"invalid_api_key"}}""")]
    [InlineData(403, null, """{"error":{"message":"bad","type":"permission_error","code":null}}""")]
    [InlineData(404, null, """{"error":{"message":"bad","type":"invalid_request_error","code":"model_not_found"}}""")]
    [InlineData(404, "not_found", """{"error":{"message":"bad","type":"invalid_request_error","code":"not_found"}}""")]
    [InlineData(429, null, """{"error":{"message":"bad","type":"rate_limit_error","code":"rate_limit_exceeded"}}""")]
    [InlineData(429, "model_cooldown", """{"error":{"message":"bad","type":"rate_limit_error","code":"model_cooldown"}}""")]
    [InlineData(500, null, """{"error":{"message":"bad","type":"server_error","code":null}}""")]
    [InlineData(503, null, """{"error":{"message":"bad","type":"server_error","code":null}}""")]
    [InlineData(422, null, """{"error":{"message":"bad","type":"invalid_request_error","code":null}}""")]
    public void ErrorShapeFollowsStatus(int status, string? code, string expected)
    {
        JsonAssert.Equal(expected, OpenAIChatCodec.Instance.EncodeError(status, "bad", code));
    }

    [Fact]
    public void TokenCountShape()
    {
        JsonAssert.Equal("""{"object":"token_count","input_tokens":1234}""", OpenAIChatCodec.Instance.EncodeTokenCount(1234));
    }
}
