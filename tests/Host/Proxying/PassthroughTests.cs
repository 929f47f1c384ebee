using System.Text;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>
/// OpenAI chat client to OpenAI-compatible upstream is a passthrough: the upstream gets the client's bytes with only the
/// model value changed, and the client gets the upstream's bytes unchanged.
/// </summary>
public sealed class PassthroughTests
{
    // Odd whitespace, a tab, raw and escaped unicode, an escaped model id, a nested "model" that is not the model, numbers
    // a re-serializer would normalise, and fields the proxy has never heard of.
    private const string ClientBodyTemplate = "{ \"x_meta\" : {\"model\": \"keep-me\", \"n\": [1, 2.50, -0e0, 1E+2]},\n\t\"model\" :  \"client\\u002dmodel\" ,\r\n"
        + "  \"messages\":[ {\"role\":\"user\",   \"content\":\"héllo 🌍 \\u00e9\\t\\\"quoted\\\" \\ud83d\\ude00\"} ],\n"
        + "  STREAM\"x_unknown_flag\"  : null , \"x_vendor_options\":{\"deep\":{\"er\":[true,false,{}]}}   }\n";

    private const string ClientModelToken = "\"client\\u002dmodel\"";

    [Fact]
    public async Task Stream_request_reaches_the_upstream_byte_for_byte_but_the_model_and_the_sse_bytes_come_back_unchanged()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        var clientBody = ClientBodyTemplate.Replace("STREAM", "\"stream\" : true, \"stream_options\":{\"include_usage\":true},");
        var emoji = Encoding.UTF8.GetBytes("🌍");
        byte[][] upstreamWrites =
        [
            Encoding.UTF8.GetBytes(": keep-alive comment\n\n"),
            Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-pt\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"upstream-model\",\"x_vendor\":{\"a\" : 1},\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"h\\u00e9 "),
            [.. emoji[..2]], // a UTF-8 sequence split across writes
            [.. emoji[2..], .. Encoding.UTF8.GetBytes("\"},\"finish_reason\":null}]}\n\n")],
            Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-pt\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n"),
            Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-pt\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n"),
            Encoding.UTF8.GetBytes("data: [DONE]\n\n"),
        ];
        proxy.Enqueue(FakeReply.SseBytes(upstreamWrites));

        using var response = await proxy.PostBytesAsync("/v1/chat/completions", Encoding.UTF8.GetBytes(clientBody));
        var received = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(upstreamWrites.SelectMany(w => w).ToArray(), received);
        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal(Encoding.UTF8.GetBytes(clientBody.Replace(ClientModelToken, "\"upstream-model\"")), upstream.Body);
        Assert.Equal("Bearer " + OpenAICompatProxy.UpstreamKey, upstream.Header("authorization"));
    }

    [Fact]
    public async Task Non_stream_request_and_json_answer_pass_through_unchanged_apart_from_the_model()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        var clientBody = ClientBodyTemplate.Replace("STREAM", "");
        var answer = Encoding.UTF8.GetBytes("{\n  \"id\" : \"chatcmpl-pt\", \"object\":\"chat.completion\",\"created\":1,\"model\":\"upstream-model\",\n"
            + "  \"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ol\\u00e1 🌍\"},\"finish_reason\":\"stop\",\"x_vendor\":[1.50]}],\n"
            + "  \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}\n}\n");
        proxy.Enqueue(FakeReply.Raw(200, "application/json", answer));

        using var response = await proxy.PostBytesAsync("/v1/chat/completions", Encoding.UTF8.GetBytes(clientBody));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(answer, await response.Content.ReadAsByteArrayAsync());
        var upstream = Assert.Single(proxy.Upstream.ChatRequests);
        Assert.Equal(Encoding.UTF8.GetBytes(clientBody.Replace(ClientModelToken, "\"upstream-model\"")), upstream.Body);
        // No tracing headers of the proxy's own reach the provider (ASP.NET's per-request Activity is off).
        Assert.Null(upstream.Header("traceparent"));
    }
}
