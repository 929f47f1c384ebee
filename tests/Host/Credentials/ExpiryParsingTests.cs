using System.Text;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Tests.Host.Credentials;

public sealed class ExpiryParsingTests
{
    // 2026-12-05T02:00:00Z = 1796436000 s.
    private const string Expected = "2026-12-05T02:00:00+00:00";

    [Theory]
    [InlineData("\"expired\":\"2026-12-05T10:00:00+08:00\"", Expected)]                  // CLIProxyAPI's RFC 3339 with offset
    [InlineData("\"expired\":\"2026-12-05T02:00:00Z\"", Expected)]
    [InlineData("\"expired\":\"2026-12-05T10:00:00.123456789+08:00\"", "2026-12-05T02:00:00.1234567+00:00")] // Go's nine digits
    [InlineData("\"expired\":1796436000", Expected)]                                      // Unix seconds
    [InlineData("\"expired\":1796436000000", Expected)]                                   // Unix milliseconds
    [InlineData("\"expired\":1796436000.5", "2026-12-05T02:00:00.5+00:00")]               // fractional seconds
    [InlineData("\"expired\":\"1796436000\"", Expected)]                                  // a number written as a string
    [InlineData("\"expiry_date\":1796436000000", Expected)]                               // Gemini, ms
    [InlineData("\"token\":{\"expiry\":\"2026-12-05T10:00:00+08:00\"}", Expected)]        // Gemini's nested Go oauth2 token
    [InlineData("\"token\":{\"expiry\":\"2026-12-05T10:00:00.999999999+08:00\"}", "2026-12-05T02:00:00.9999999+00:00")]
    [InlineData("\"expires_at\":\"2026-12-05T02:00:00Z\"", Expected)]
    [InlineData("\"expires_at\":1796436000", Expected)]
    [InlineData("\"expired\":\"2026-12-05T10:00:00+08:00\",\"expiry_date\":1, \"expires_at\":2", Expected)] // expired comes first
    [InlineData("\"expiry_date\":1796436000000,\"token\":{\"expiry\":\"2030-01-01T00:00:00Z\"}", Expected)] // then expiry_date
    [InlineData("\"token\":{\"expiry\":\"2026-12-05T02:00:00Z\"},\"expires_at\":\"2030-01-01T00:00:00Z\"", Expected)] // then token.expiry
    [InlineData("\"expired\":\"\",\"expires_at\":\"2026-12-05T02:00:00Z\"", Expected)]   // a blank field falls through
    [InlineData("\"expired\":\"0001-01-01T00:00:00Z\"", null)]                           // Go's zero time: unknown
    [InlineData("\"expired\":0", null)]
    [InlineData("\"expired\":-5", null)]
    [InlineData("\"expired\":\"soon\"", null)]
    [InlineData("\"expired\":true", null)]
    [InlineData("\"token\":\"not an object\"", null)]
    [InlineData("\"access_token\":\"t\"", null)]
    public void Expiry_is_read_from_every_format(string fields, string? expected)
    {
        var json = $$"""{"type":"claude","email":"a@example.test",{{fields}}}""";

        var record = AuthFileParser.Parse("/auths/a.json", "/auths", Encoding.UTF8.GetBytes(json));

        Assert.NotNull(record);
        if (expected is null) Assert.Null(record.ExpiresAt);
        else Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), record.ExpiresAt);
    }
}
