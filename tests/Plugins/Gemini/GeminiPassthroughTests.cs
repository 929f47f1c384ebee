using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>Gemini clients to Gemini accounts: no translation; API-key accounts relay bytes exactly, Code Assist is wrapped and unwrapped.</summary>
public sealed class GeminiPassthroughTests
{
    private const string Path = "/v1beta/models/" + GeminiProxy.Model;
    // Odd spacing, key order and a signature: the bytes must arrive as sent.
    private const string ClientBody = """{ "contents" : [{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"x","thoughtSignature":"c2lnLWJ5dGVz"}]},{"role":"user","parts":[{"text":"more"}]}], "generationConfig":{"temperature":0.5} }""";
    private const string Answer = """{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4},"modelVersion":"gemini-2.5-pro","responseId":"r1"}""";

    [Fact]
    public async Task Api_key_generate_content_relays_request_and_answer_bytes_exactly()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        var answer = Encoding.UTF8.GetBytes("{\n  \"candidates\": [{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hello\"}]},\"finishReason\":\"STOP\"}]\n}\n");
        proxy.Enqueue(GeminiReply.Raw("application/json; charset=UTF-8", answer));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":generateContent", Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        Assert.Equal(answer, body);
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-pro:generateContent", upstream.Path);
        Assert.Equal("", upstream.Query);
        Assert.Equal(GeminiProxy.ApiKeyOne, upstream.Header("x-goog-api-key"));
        Assert.Null(upstream.Header("authorization"));
        Assert.Equal(ClientBody, upstream.BodyText);
    }

    [Fact]
    public async Task Api_key_sse_stream_is_relayed_byte_for_byte_with_alt_sse()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        var sse = Encoding.UTF8.GetBytes("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"He\"}],\"role\":\"model\"}}]}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"llo\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\r\n\r\n");
        proxy.Enqueue(GeminiReply.Raw("text/event-stream", sse));

        var (status, body, response) = await proxy.PostBytesAsync(Path + ":streamGenerateContent?alt=sse", Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(sse, body);
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-pro:streamGenerateContent", upstream.Path);
        Assert.Equal("?alt=sse", upstream.Query);
        Assert.Equal(ClientBody, upstream.BodyText);
    }

    [Fact]
    public async Task Api_key_json_array_stream_is_requested_without_alt_and_relayed_byte_for_byte()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        var array = Encoding.UTF8.GetBytes("[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"He\"}]}}]}\n,\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"llo\"}]},\"finishReason\":\"STOP\"}]}\n]");
        proxy.Enqueue(GeminiReply.Raw("application/json; charset=UTF-8", array));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":streamGenerateContent", Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        Assert.Equal(array, body);
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-pro:streamGenerateContent", upstream.Path);
        Assert.Equal("", upstream.Query);
    }

    [Fact]
    public async Task Api_key_count_tokens_passes_through()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        proxy.Enqueue(GeminiReply.Raw("application/json", """{"totalTokens":42}"""u8.ToArray()));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":countTokens", """{"contents":[{"parts":[{"text":"hi"}]}]}"""u8.ToArray());

        Assert.Equal(200, status);
        Assert.Equal("""{"totalTokens":42}""", Encoding.UTF8.GetString(body));
        Assert.Equal("/v1beta/models/gemini-2.5-pro:countTokens", Assert.Single(proxy.Requests).Path);
    }

    [Fact]
    public async Task Code_assist_generate_content_is_enveloped_with_model_and_project_and_unwrapped()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli);
        proxy.Enqueue(GeminiReply.Json(Answer));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":generateContent", Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        JsonAssert.Equal(Answer, JsonNode.Parse(body));
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1internal:generateContent", upstream.Path);
        Assert.Equal("Bearer " + GeminiProxy.AccessToken, upstream.Header("authorization"));
        Assert.Equal("google-api-nodejs-client/9.15.1", upstream.Header("user-agent"));
        Assert.Equal("gl-node/22.17.0", upstream.Header("x-goog-api-client"));
        Assert.Equal("ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI", upstream.Header("client-metadata"));
        var envelope = upstream.Json!;
        Assert.Equal(GeminiProxy.Model, (string?)envelope["model"]);
        Assert.Equal(GeminiProxy.Project, (string?)envelope["project"]);
        JsonAssert.Equal(ClientBody, envelope["request"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Code_assist_stream_is_unwrapped_in_the_framing_the_client_asked_for(bool sse)
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli);
        const string first = """{"candidates":[{"content":{"role":"model","parts":[{"text":"He"}]}}]}""";
        const string last = """{"candidates":[{"content":{"role":"model","parts":[{"text":"llo"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}""";
        proxy.Enqueue(GeminiReply.Stream(first, last));

        var (status, body, response) = await proxy.PostBytesAsync(Path + ":streamGenerateContent" + (sse ? "?alt=sse" : ""), Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1internal:streamGenerateContent", upstream.Path);
        Assert.Equal("?alt=sse", upstream.Query); // Code Assist is always read as SSE
        var text = Encoding.UTF8.GetString(body);
        Assert.DoesNotContain("\"response\"", text);
        Assert.DoesNotContain("traceId", text);
        if (sse)
        {
            Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
            var events = text.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, events.Length);
            JsonAssert.Equal(first, JsonNode.Parse(events[0]["data: ".Length..]));
            JsonAssert.Equal(last, JsonNode.Parse(events[1]["data: ".Length..]));
        }
        else
        {
            var array = JsonNode.Parse(text)!.AsArray();
            Assert.Equal(2, array.Count);
            JsonAssert.Equal(first, array[0]);
            JsonAssert.Equal(last, array[1]);
        }
    }

    [Fact]
    public async Task Code_assist_events_spanning_several_data_lines_are_unwrapped_onto_one_line()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli);
        // The first event's JSON is pretty-printed over three data lines; the second has no envelope and passes as it is.
        const string upstream = "data: {\"response\": {\"candidates\": [\r\ndata: {\"content\": {\"role\": \"model\", \"parts\": [{\"text\": \"He\"}]}}]},\r\n" +
            "data: \"traceId\": \"t\"}\r\n\r\n" +
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"llo\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
        proxy.Enqueue(GeminiReply.Raw("text/event-stream", Encoding.UTF8.GetBytes(upstream)));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":streamGenerateContent?alt=sse", Encoding.UTF8.GetBytes(ClientBody));

        Assert.Equal(200, status);
        var events = Encoding.UTF8.GetString(body).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.All(events, e => Assert.DoesNotContain('\n', e));
        JsonAssert.Equal("""{"candidates":[{"content":{"role":"model","parts":[{"text":"He"}]}}]}""", JsonNode.Parse(events[0]["data: ".Length..]));
        JsonAssert.Equal("""{"candidates":[{"content":{"role":"model","parts":[{"text":"llo"}]},"finishReason":"STOP"}]}""", JsonNode.Parse(events[1]["data: ".Length..]));
    }

    [Fact]
    public async Task Code_assist_count_tokens_sends_model_and_contents_in_a_request_envelope()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli);
        proxy.Enqueue(GeminiReply.Raw("application/json", """{"totalTokens":7}"""u8.ToArray()));

        var (status, body, _) = await proxy.PostBytesAsync(Path + ":countTokens", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""u8.ToArray());

        Assert.Equal(200, status);
        Assert.Equal(7, (int)JsonNode.Parse(body)!["totalTokens"]!);
        var upstream = Assert.Single(proxy.Requests);
        Assert.Equal("/v1internal:countTokens", upstream.Path);
        JsonAssert.Equal("""{"request":{"model":"models/gemini-2.5-pro","contents":[{"role":"user","parts":[{"text":"hi"}]}]}}""", upstream.Json);
    }
}
