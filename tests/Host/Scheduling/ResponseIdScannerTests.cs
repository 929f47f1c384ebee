using System.Text;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class ResponseIdScannerTests
{
    private static string? Scan(bool sse, string text, int chunk)
    {
        var scanner = new ResponseIdScanner(sse);
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += chunk) scanner.Observe(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        return scanner.Id;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Finds_the_id_of_a_passthrough_answer_however_it_is_split(int chunk)
    {
        const string stream = "event: response.created\n"
            + """data: {"type":"response.created","sequence_number":0,"response":{"instructions":"x","id":"resp_abc","output":[]}}""" + "\n\n"
            + "event: response.completed\n"
            + """data: {"type":"response.completed","response":{"id":"resp_other"}}""" + "\n\n";
        Assert.Equal("resp_abc", Scan(sse: true, stream, chunk));
        Assert.Equal("resp_json", Scan(sse: false, """{"object":"response","output":[{"id":"msg_1"}],"id":"resp_json","usage":{}}""", chunk));
    }

    [Fact]
    public void Nothing_is_found_where_there_is_no_response_id()
    {
        Assert.Null(Scan(sse: true, "data: {\"type\":\"error\",\"message\":\"response failed\"}\n\ndata: [DONE]\n\n", 5));
        Assert.Null(Scan(sse: false, """{"error":{"id":"e1","message":"no"}}""", 3));
        Assert.Null(Scan(sse: false, "not json", 3));
    }
}
