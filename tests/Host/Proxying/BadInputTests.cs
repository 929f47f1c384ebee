using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>
/// Bad client input and upstream failures: always a 4xx/5xx in the client's own error shape (never a bare 500), and
/// after a stream has started, the dialect's mid-stream error event.
/// </summary>
public sealed class BadInputTests
{
    /// <summary>A client-facing endpoint and how to build bodies for it.</summary>
    private sealed record Endpoint(string Name, string Shape, Func<string?, string> Path, Func<string?, string, string> Body, string WrongTypes)
    {
        public override string ToString() => Name;
    }

    private const string Hi = """[{"role":"user","content":"hi"}]""";
    private const string GeminiContents = "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]";

    private static readonly Dictionary<string, Endpoint> Endpoints = new[]
    {
        new Endpoint("chat", "openai", _ => "/v1/chat/completions", (m, extra) => Obj(m, $"\"messages\":{Hi}" + extra), """{"model":"client-model","messages":"hi"}"""),
        new Endpoint("completions", "openai", _ => "/v1/completions", (m, extra) => Obj(m, "\"prompt\":\"hi\"" + extra), """{"model":"client-model","prompt":{"text":"hi"}}"""),
        new Endpoint("responses", "openai", _ => "/v1/responses", (m, extra) => Obj(m, "\"input\":\"hi\"" + extra), """{"model":"client-model","input":42}"""),
        new Endpoint("anthropic", "anthropic", _ => "/v1/messages", (m, extra) => Obj(m, $"\"max_tokens\":50,\"messages\":{Hi}" + extra), """{"model":"client-model","max_tokens":50,"messages":"hi"}"""),
        new Endpoint("gemini", "gemini", m => $"/v1beta/models/{m}:generateContent", (_, extra) => Obj(null, GeminiContents + extra), """{"contents":"hi"}"""),
        new Endpoint("gemini-stream", "gemini", m => $"/v1beta/models/{m}:streamGenerateContent?alt=sse", (_, extra) => Obj(null, GeminiContents + extra), """{"contents":[{"role":"user","parts":"hi"}]}"""),
    }.ToDictionary(e => e.Name);

    public static TheoryData<string> AllEndpoints => [.. Endpoints.Keys];

    /// <summary>Endpoints whose request is translated (decoded by the proxy); chat is passed through.</summary>
    public static TheoryData<string> TranslatedEndpoints => [.. Endpoints.Keys.Where(k => k != "chat")];

    private static string Obj(string? model, string rest) => model is null ? "{" + rest + "}" : $"{{\"model\":\"{model}\",{rest}}}";

    [Theory]
    [MemberData(nameof(AllEndpoints))]
    public async Task Malformed_json_is_400(string name)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync();

        foreach (var body in new[] { """{"model":"client-model","messages":[""", "[1,2]", "not json at all" })
        {
            var (status, text, _) = await proxy.PostAsync(endpoint.Path("client-model"), body);
            AssertError(endpoint, 400, status, text);
        }
        Assert.Empty(proxy.Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(AllEndpoints))]
    public async Task Missing_model_is_400_and_says_how_to_list_models(string name)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync();

        var (status, text, _) = await proxy.PostAsync(endpoint.Path(""), endpoint.Body(null, ""));

        var message = AssertError(endpoint, 400, status, text);
        Assert.Contains("model", message);
        Assert.Contains("/models", message);
    }

    [Theory]
    [MemberData(nameof(AllEndpoints))]
    public async Task Unknown_model_is_404_naming_the_model_and_how_to_list_models(string name)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync();

        var (status, text, _) = await proxy.PostAsync(endpoint.Path("no-such-model"), endpoint.Body("no-such-model", ""));

        var message = AssertError(endpoint, 404, status, text);
        Assert.Contains("no-such-model", message);
        Assert.Contains("/models", message);
        Assert.Empty(proxy.Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(AllEndpoints))]
    public async Task Body_over_the_configured_limit_is_413_with_or_without_content_length(string name)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync("max-body-size-mb: 1");
        var body = Encoding.UTF8.GetBytes(endpoint.Body("client-model", ",\"padding\":\"" + new string('x', 1024 * 1024 + 10) + "\""));

        using var sized = await proxy.PostBytesAsync(endpoint.Path("client-model"), body);
        AssertError(endpoint, 413, (int)sized.StatusCode, await sized.Content.ReadAsStringAsync());

        // Chunked: no Content-Length, so the limit is enforced while reading.
        var chunked = new StreamContent(new UnknownLengthStream(body));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var streamed = await proxy.Client.PostAsync(endpoint.Path("client-model"), chunked);
        AssertError(endpoint, 413, (int)streamed.StatusCode, await streamed.Content.ReadAsStringAsync());
        Assert.Empty(proxy.Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(TranslatedEndpoints))]
    public async Task Wrong_field_types_are_400_from_the_proxy(string name)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync();

        var (status, text, _) = await proxy.PostAsync(endpoint.Path("client-model"), endpoint.WrongTypes);

        AssertError(endpoint, 400, status, text);
        Assert.Empty(proxy.Upstream.Requests);
    }

    [Fact]
    public async Task Wrong_field_types_in_a_passthrough_request_get_the_upstreams_own_400()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        const string upstreamError = """{"error":{"message":"Invalid type for 'messages': expected an array of objects, but got a string instead.","type":"invalid_request_error","param":"messages","code":"invalid_type"}}""";
        proxy.Enqueue(FakeReply.Error(400, upstreamError));

        var (status, text, _) = await proxy.PostAsync("/v1/chat/completions", Endpoints["chat"].WrongTypes);

        Assert.Equal(400, status);
        Assert.Equal(JsonNode.Parse(upstreamError)!.ToJsonString(), JsonNode.Parse(text)!.ToJsonString());
    }

    public static TheoryData<string, int, bool> UpstreamFailures =>
        new TheoryData<string, int, bool>().Also(d =>
        {
            foreach (var name in Endpoints.Keys)
                foreach (var status in new[] { 400, 429, 500 })
                    d.Add(name, status, false);
            foreach (var name in new[] { "chat", "responses", "anthropic" })
                d.Add(name, 429, true);
        });

    [Theory]
    [MemberData(nameof(UpstreamFailures))]
    public async Task Upstream_error_reaches_the_client_with_its_status_in_the_clients_dialect(string name, int upstreamStatus, bool stream)
    {
        var endpoint = Endpoints[name];
        await using var proxy = await OpenAICompatProxy.StartAsync();
        var headers = upstreamStatus == 429 ? new Dictionary<string, string> { ["Retry-After"] = "7" } : null;
        proxy.Enqueue(FakeReply.Error(upstreamStatus,
            $$$"""{"error":{"message":"upstream says no ({{{upstreamStatus}}})","type":"upstream_error","code":"nope"}}""", headers));

        var (status, text, response) = await proxy.PostAsync(endpoint.Path("client-model"), endpoint.Body("client-model", stream ? ",\"stream\":true" : ""));

        var message = AssertError(endpoint, upstreamStatus, status, text);
        Assert.Contains($"upstream says no ({upstreamStatus})", message);
        if (upstreamStatus == 429) Assert.Equal("7", response.Headers.RetryAfter?.ToString());
        Assert.Single(proxy.Upstream.ChatRequests);
    }

    /// <summary>Streaming endpoints and how each shows a mid-stream failure.</summary>
    public static TheoryData<string, MidStreamFailure> MidStreamCases =>
        new TheoryData<string, MidStreamFailure>().Also(d =>
        {
            foreach (var name in new[] { "chat", "completions", "responses", "anthropic", "gemini-sse", "gemini-array" })
                foreach (var failure in new[] { MidStreamFailure.Abort, MidStreamFailure.ErrorChunk })
                    d.Add(name, failure);
        });

    [Theory]
    [MemberData(nameof(MidStreamCases))]
    public async Task Stream_failing_midway_ends_with_the_dialects_error_event_after_the_text_so_far(string name, MidStreamFailure failure)
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        // Role chunk and two text chunks reach the client, then the upstream fails (once the client has seen them).
        var clientSawText = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        proxy.Enqueue(ChatReply.Text("Hel", "lo", " never sent").FailingAfter(3, failure, clientSawText.Task));
        var (path, body) = name switch
        {
            "chat" => ("/v1/chat/completions", $"{{\"model\":\"client-model\",\"stream\":true,\"messages\":{Hi}}}"),
            "completions" => ("/v1/completions", """{"model":"client-model","stream":true,"prompt":"hi"}"""),
            "responses" => ("/v1/responses", """{"model":"client-model","stream":true,"input":"hi"}"""),
            "anthropic" => ("/v1/messages", $"{{\"model\":\"client-model\",\"max_tokens\":50,\"stream\":true,\"messages\":{Hi}}}"),
            "gemini-sse" => ("/v1beta/models/client-model:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""),
            _ => ("/v1beta/models/client-model:streamGenerateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""),
        };

        using var response = await proxy.Server.PostJsonAsync(path, body, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        var text = await ReadAllAsync(await response.Content.ReadAsStreamAsync(), "\"lo\"", clientSawText);

        Assert.DoesNotContain("never sent", text);
        if (name == "gemini-array")
        {
            var chunks = JsonNode.Parse(text)!.AsArray();
            Assert.Equal("Hello", string.Concat(chunks.SelectMany(c => c!["candidates"]?[0]?["content"]?["parts"]?.AsArray() ?? []).Select(p => (string?)p!["text"])));
            AssertGeminiError(chunks[^1]!, failure);
            return;
        }
        var events = ClientWire.Sse(text);
        switch (name)
        {
            case "chat" or "completions":
                var field = name == "chat" ? "delta" : null;
                Assert.Equal("Hello", string.Concat(events.Where(e => e.Data?["choices"] is JsonArray).Select(e =>
                    (string?)(field is null ? e.Data!["choices"]![0]!["text"] : e.Data!["choices"]![0]!["delta"]!["content"]))));
                var error = events.Last(e => !e.IsDone).Data!["error"]!;
                AssertFailureMessage((string?)error["message"], failure);
                Assert.Null(events.FirstOrDefault(e => e.IsDone)); // a failed stream does not claim normal completion
                break;
            case "responses":
                Assert.Equal("Hello", string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => (string?)e.Data!["delta"])));
                Assert.Equal(["error", "response.failed"], events[^2..].Select(e => e.Type));
                AssertFailureMessage((string?)events[^2].Data!["message"], failure);
                Assert.Equal("failed", (string?)events[^1].Data!["response"]!["status"]);
                Assert.DoesNotContain(events, e => e.Type == "response.completed");
                break;
            case "anthropic":
                Assert.Equal("Hello", string.Concat(events.Where(e => e.Type == "content_block_delta").Select(e => (string?)e.Data!["delta"]!["text"])));
                Assert.Equal("error", events[^1].Name);
                Assert.Equal("error", (string?)events[^1].Data!["type"]);
                Assert.False(string.IsNullOrEmpty((string?)events[^1].Data!["error"]!["type"]));
                AssertFailureMessage((string?)events[^1].Data!["error"]!["message"], failure);
                Assert.DoesNotContain(events, e => e.Type == "message_stop");
                break;
            default:
                Assert.Equal("Hello", string.Concat(events.SkipLast(1).SelectMany(e => e.Data!["candidates"]![0]!["content"]!["parts"]!.AsArray()).Select(p => (string?)p!["text"])));
                AssertGeminiError(events[^1].Data!, failure);
                break;
        }
    }

    [Fact]
    public async Task Websocket_upgrade_on_responses_is_426()
    {
        await using var proxy = await OpenAICompatProxy.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/responses");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        var error = ClientWire.Object(await response.Content.ReadAsStringAsync())["error"]!;
        Assert.Contains("stream", (string?)error["message"]);
    }

    /// <summary>Reads the whole stream, completing <paramref name="seen"/> once <paramref name="marker"/> has arrived.</summary>
    private static async Task<string> ReadAllAsync(Stream stream, string marker, TaskCompletionSource seen)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(chars, 0, decoder.GetChars(buffer, 0, read, chars, 0));
            if (text.ToString().Contains(marker)) seen.TrySetResult();
        }
        seen.TrySetResult();
        return text.ToString();
    }

    private static void AssertGeminiError(JsonNode chunk, MidStreamFailure failure)
    {
        var error = chunk["error"]!;
        Assert.InRange((int)error["code"]!, 400, 599);
        Assert.False(string.IsNullOrEmpty((string?)error["status"]));
        AssertFailureMessage((string?)error["message"], failure);
    }

    /// <summary>The upstream's own error text when it sent one; otherwise a message that says the stream broke.</summary>
    private static void AssertFailureMessage(string? message, MidStreamFailure failure) =>
        Assert.Contains(failure == MidStreamFailure.ErrorChunk ? "upstream overloaded mid-stream" : "connection failed mid-stream", message);

    /// <summary>Checks status and the dialect's error shape; returns the message.</summary>
    private static string AssertError(Endpoint endpoint, int expectedStatus, int status, string text)
    {
        Assert.True(expectedStatus == status, $"expected {expectedStatus}, got {status}: {text}");
        var json = ClientWire.Object(text);
        switch (endpoint.Shape)
        {
            case "openai":
                var error = json["error"]!.AsObject();
                Assert.True(error.ContainsKey("type") && error.ContainsKey("code"), text);
                Assert.False(string.IsNullOrEmpty((string?)error["type"]), text);
                return (string?)error["message"] ?? "";
            case "anthropic":
                Assert.Equal("error", (string?)json["type"]);
                Assert.False(string.IsNullOrEmpty((string?)json["error"]!["type"]), text);
                return (string?)json["error"]!["message"] ?? "";
            default:
                Assert.Equal(expectedStatus, (int)json["error"]!["code"]!);
                Assert.False(string.IsNullOrEmpty((string?)json["error"]!["status"]), text);
                return (string?)json["error"]!["message"] ?? "";
        }
    }

    /// <summary>A readable stream that hides its length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

internal static class TheoryDataExtensions
{
    public static T Also<T>(this T value, Action<T> fill)
    {
        fill(value);
        return value;
    }
}
