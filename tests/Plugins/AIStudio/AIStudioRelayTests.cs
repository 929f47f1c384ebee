using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.AIStudio;

/// <summary>
/// The AI Studio relay through the real server and the built plugin, with fake relay clients on <c>/v1/ws</c>: Gemini
/// passthrough and translated dialects, streams relayed chunk by chunk, round-robin over sessions, sessions that die
/// before and after the answer started, and a reconnect that takes over its id.
/// </summary>
public sealed class AIStudioRelayTests
{
    private const string Model = "gemini-2.5-pro";
    private const string GeminiBody = """{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":50,"temperature":0.9}}""";

    internal static Task<TestServer> StartAsync(string config = "") =>
        TestServer.StartAsync(config, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

    internal static string[] RelayIds(TestServer server) =>
        [.. server.Server.Credentials.Current.All.Where(c => c.Type == "aistudio").Select(c => c.Id)];

    /// <summary>
    /// The relay accounts the router sends <see cref="Model"/> to. Tests that send requests wait on this, not on
    /// <see cref="RelayIds"/>: the credential store publishes its snapshot before the model registry is rebuilt from it,
    /// so for a moment an added account is listed but not yet routed (a request then gets a 404 and never reaches the
    /// relay) and a withdrawn one is gone from the list but still routed.
    /// </summary>
    internal static string[] RoutedIds(TestServer server) =>
        server.Server.Services.GetRequiredService<ModelRegistry>().Current.Routes.TryGetValue(Model, out var routes)
            ? [.. routes.Where(r => r.Credential.Type == "aistudio").Select(r => r.Credential.Id)]
            : [];

    /// <summary>Connects a relay and waits until the router serves the model with its account.</summary>
    internal static async Task<FakeRelay> ConnectAsync(TestServer server, string? id = null, string? bearer = null)
    {
        var before = RoutedIds(server);
        var relay = await FakeRelay.ConnectAsync(server, id, bearer);
        await TestServer.EventuallyAsync(() => Task.FromResult(id is null ? RoutedIds(server).Except(before).Any() : RoutedIds(server).Contains("aistudio-" + id)),
            "the relay's account is routed");
        return relay;
    }

    internal static string Answer(string text) =>
        new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) },
                ["finishReason"] = "STOP",
            }),
            ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 3, ["candidatesTokenCount"] = 2, ["totalTokenCount"] = 5 },
            ["modelVersion"] = Model,
        }.ToJsonString();

    internal static string SseChunk(string text, bool last = false)
    {
        var candidate = new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) } };
        if (last) candidate["finishReason"] = "STOP";
        var json = new JsonObject { ["candidates"] = new JsonArray(candidate), ["modelVersion"] = Model };
        if (last) json["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 3, ["candidatesTokenCount"] = 2, ["totalTokenCount"] = 5 };
        return "data: " + json.ToJsonString() + "\r\n\r\n";
    }

    [Fact]
    public async Task A_relay_session_is_an_account_that_serves_the_ai_studio_models_while_it_is_connected()
    {
        await using var server = await StartAsync();
        Assert.Empty(RelayIds(server));
        var relay = await ConnectAsync(server);
        var id = Assert.Single(RelayIds(server));
        Assert.Matches("^aistudio-[a-z0-9]{16}$", id);
        var record = server.Server.Credentials.Current.ById[id];
        Assert.Equal(CredentialSource.Runtime, record.Source);
        Assert.Equal(id, record.Label);
        Assert.Equal("aistudio", record.Provider);
        Assert.Empty(Directory.GetFiles(server.AuthDir)); // memory only

        var models = (await server.GetJsonAsync("/v1/models"))["data"]!.AsArray().Select(m => (string?)m!["id"]).ToList();
        foreach (var model in (string[])["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview", "gemini-3-flash-preview",
                     "gemini-pro-latest", "gemini-flash-latest", "gemini-flash-lite-latest", "gemini-2.5-flash-image"])
            Assert.Contains(model, models);

        await relay.DisposeAsync(); // the tab closes
        await TestServer.EventuallyAsync(() => Task.FromResult(RelayIds(server).Length == 0 && RoutedIds(server).Length == 0), "the account disappears");
        using var gone = await server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
        Assert.Equal(404, (int)gone.StatusCode);
    }

    [Fact]
    public async Task A_gemini_request_becomes_an_http_request_message_and_the_http_response_is_relayed_with_the_hosts_payload_rules_applied()
    {
        await using var server = await StartAsync("""
            payload:
              override:
                - models: [{name: "gemini-*"}]
                  params: {"generationConfig.topK": 7}
            """);
        await using var relay = await ConnectAsync(server);

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
        var request = await relay.NextRequestAsync();
        Assert.Equal("POST", request.Method);
        Assert.Equal($"https://generativelanguage.googleapis.com/v1beta/models/{Model}:generateContent", request.Url);
        Assert.Contains("application/json", request.Header("Content-Type"));
        var body = request.Json;
        Assert.Equal("hi", (string?)body["contents"]![0]!["parts"]![0]!["text"]);
        Assert.Null(body["generationConfig"]!["maxOutputTokens"]); // AI Studio Build does not take it (CLIProxyAPI drops it too)
        Assert.Equal(0.9, (double)body["generationConfig"]!["temperature"]!);
        Assert.Equal(7, (int)body["generationConfig"]!["topK"]!); // the host's concerns travel through the plugin's transport
        await relay.RespondAsync(request.Id, 200, Answer("Hello from the tab"));

        using var response = await call;
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Hello from the tab", (string?)answer["candidates"]![0]!["content"]!["parts"]![0]!["text"]);
    }

    [Fact]
    public async Task A_stream_reaches_the_client_chunk_by_chunk_as_the_relay_sends_it()
    {
        await using var server = await StartAsync();
        await using var relay = await ConnectAsync(server);

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:streamGenerateContent?alt=sse", GeminiBody, HttpCompletionOption.ResponseHeadersRead);
        var request = await relay.NextRequestAsync();
        Assert.Equal($"https://generativelanguage.googleapis.com/v1beta/models/{Model}:streamGenerateContent?alt=sse", request.Url);
        await relay.StreamStartAsync(request.Id);
        await relay.ChunkAsync(request.Id, SseChunk("first "));

        using var response = await call.WaitAsync(FakeRelay.Guard);
        Assert.Equal(200, (int)response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // The second chunk is held until the client has read the first: a proxy that buffered would never get here.
        var seen = await ReadUntilAsync(reader, "first ");
        Assert.DoesNotContain("second", seen);
        await relay.ChunkAsync(request.Id, SseChunk("second", last: true));
        await relay.StreamEndAsync(request.Id);
        var rest = await reader.ReadToEndAsync().WaitAsync(FakeRelay.Guard);
        Assert.Contains("second", rest);
        Assert.Contains("STOP", rest);
    }

    [Fact]
    public async Task An_openai_client_is_translated_to_a_relay_account_streaming_and_not()
    {
        await using var server = await StartAsync();
        await using var relay = await ConnectAsync(server);
        const string Chat = """{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}],"max_tokens":30}""";

        var call = server.PostJsonAsync("/v1/chat/completions", Chat);
        var request = await relay.NextRequestAsync();
        Assert.EndsWith($"/v1beta/models/{Model}:generateContent", request.Url);
        Assert.Equal("hi", (string?)request.Json["contents"]![0]!["parts"]![0]!["text"]);
        await relay.RespondAsync(request.Id, 200, Answer("Translated answer"));
        using (var response = await call)
        {
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("Translated answer", (string?)answer["choices"]![0]!["message"]!["content"]);
        }

        var streamCall = server.PostJsonAsync("/v1/chat/completions", Chat.Replace("\"max_tokens\":30", "\"stream\":true"), HttpCompletionOption.ResponseHeadersRead);
        var streamed = await relay.NextRequestAsync();
        Assert.EndsWith($"/v1beta/models/{Model}:streamGenerateContent?alt=sse", streamed.Url);
        await relay.StreamStartAsync(streamed.Id);
        await relay.ChunkAsync(streamed.Id, SseChunk("Stre"));
        await relay.ChunkAsync(streamed.Id, SseChunk("amed", last: true));
        await relay.StreamEndAsync(streamed.Id);
        using var streamResponse = await streamCall.WaitAsync(FakeRelay.Guard);
        var text = await streamResponse.Content.ReadAsStringAsync();
        var deltas = string.Concat(text.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => (string?)JsonNode.Parse(l[6..])!["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"]));
        Assert.Equal("Streamed", deltas);
        Assert.Contains("data: [DONE]", text);
    }

    [Fact]
    public async Task An_anthropic_client_gets_a_relay_error_status_in_its_own_dialect()
    {
        await using var server = await StartAsync();
        await using var relay = await ConnectAsync(server);

        var call = server.PostJsonAsync("/v1/messages", """{"model":"gemini-2.5-pro","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""");
        var request = await relay.NextRequestAsync();
        await relay.ErrorAsync(request.Id, "The caller does not have permission", 403);
        using var response = await call;
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("error", (string?)body["type"]);
        Assert.Contains("does not have permission", (string?)body["error"]!["message"]);
    }

    [Fact]
    public async Task Two_sessions_share_the_load_round_robin()
    {
        await using var server = await StartAsync();
        await using var a = await ConnectAsync(server, "aaaaaaaaaaaaaaaa");
        await using var b = await ConnectAsync(server, "bbbbbbbbbbbbbbbb");

        var servedBy = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var call = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
            var (relay, request) = await FirstRequestAsync(a, b);
            await relay.RespondAsync(request.Id, 200, Answer(relay == a ? "a" : "b"));
            using var response = await call;
            servedBy.Add((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!);
        }
        Assert.Equal(2, servedBy.Count(s => s == "a"));
        Assert.Equal(2, servedBy.Count(s => s == "b"));
        Assert.NotEqual(servedBy[0], servedBy[1]);
    }

    [Fact]
    public async Task A_session_that_drops_mid_stream_ends_that_answer_with_an_error_and_new_requests_go_to_the_other()
    {
        await using var server = await StartAsync();
        await using var a = await ConnectAsync(server, "aaaaaaaaaaaaaaaa");
        await using var b = await ConnectAsync(server, "bbbbbbbbbbbbbbbb");

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:streamGenerateContent?alt=sse", GeminiBody, HttpCompletionOption.ResponseHeadersRead);
        var (dying, request) = await FirstRequestAsync(a, b);
        var survivor = dying == a ? b : a;
        await dying.StreamStartAsync(request.Id);
        await dying.ChunkAsync(request.Id, SseChunk("partial "));
        using var response = await call.WaitAsync(FakeRelay.Guard);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await ReadUntilAsync(reader, "partial ");
        dying.Drop();
        var rest = await reader.ReadToEndAsync().WaitAsync(FakeRelay.Guard); // ends, does not hang
        Assert.Contains("\"error\"", rest);
        Assert.Contains("the answer is incomplete", rest);
        await TestServer.EventuallyAsync(() => Task.FromResult(RelayIds(server).Length == 1 && RoutedIds(server).Length == 1), "the dropped session's account is withdrawn");

        for (var i = 0; i < 2; i++)
        {
            var next = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
            var served = await survivor.NextRequestAsync();
            await survivor.RespondAsync(served.Id, 200, Answer("survivor"));
            using var ok = await next;
            Assert.Equal(200, (int)ok.StatusCode);
        }
    }

    [Fact]
    public async Task A_session_that_drops_before_answering_fails_over_to_the_other_within_the_same_request()
    {
        await using var server = await StartAsync();
        await using var a = await ConnectAsync(server, "aaaaaaaaaaaaaaaa");
        await using var b = await ConnectAsync(server, "bbbbbbbbbbbbbbbb");

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
        var (dying, _) = await FirstRequestAsync(a, b);
        var survivor = dying == a ? b : a;
        dying.Drop();
        var retried = await survivor.NextRequestAsync();
        await survivor.RespondAsync(retried.Id, 200, Answer("second try"));
        using var response = await call;
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("second try", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_lone_session_that_drops_before_answering_fails_the_request_with_a_clear_error()
    {
        await using var server = await StartAsync();
        var relay = await ConnectAsync(server);

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
        await relay.NextRequestAsync();
        relay.Drop();
        using var response = await call.WaitAsync(FakeRelay.Guard);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode >= 500, text);
        Assert.Contains("AI Studio relay", text);
        await relay.DisposeAsync();
    }

    [Fact]
    public async Task Another_client_key_cannot_take_over_a_connected_relays_id()
    {
        await using var server = await StartAsync("api-keys: [\"owner-key\", \"other-key\"]");
        await using var owner = await ConnectAsync(server, "gggggggggggggggg", bearer: "owner-key");
        await using var intruder = await FakeRelay.ConnectAsync(server, "gggggggggggggggg", "other-key");

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await intruder.WaitClosedAsync());
        Assert.Contains("in use", intruder.CloseDescription);
        var post = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{Model}:generateContent")
        {
            Content = new StringContent(GeminiBody, Encoding.UTF8, "application/json"),
        };
        post.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "other-key");
        var call = server.Client.SendAsync(post);
        var request = await owner.NextRequestAsync(); // the owner still serves the account
        await owner.RespondAsync(request.Id, 200, Answer("still the owner"));
        using var response = await call;
        Assert.Contains("still the owner", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_reconnect_with_the_same_id_replaces_the_old_session_and_keeps_the_account()
    {
        await using var server = await StartAsync();
        await using var first = await ConnectAsync(server, "cccccccccccccccc");
        await using var second = await FakeRelay.ConnectAsync(server, "aistudio-CCCCCCCCCCCCCCCC"); // prefix and case are normalised

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await first.WaitClosedAsync());
        Assert.Contains("replaced", first.CloseDescription);
        Assert.Equal(["aistudio-cccccccccccccccc"], RelayIds(server));

        var call = server.PostJsonAsync($"/v1beta/models/{Model}:generateContent", GeminiBody);
        var request = await second.NextRequestAsync();
        await second.RespondAsync(request.Id, 200, Answer("from the new tab"));
        using var response = await call;
        Assert.Contains("from the new tab", await response.Content.ReadAsStringAsync());
        Assert.Equal(["aistudio-cccccccccccccccc"], RelayIds(server)); // the old session's end did not withdraw the new one's account
    }

    [Fact]
    public async Task A_malformed_id_is_refused_with_a_policy_close()
    {
        await using var server = await StartAsync();
        await using var relay = await FakeRelay.ConnectAsync(server, "not-valid");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await relay.WaitClosedAsync());
        Assert.Empty(RelayIds(server));
    }

    [Fact]
    public async Task Ping_is_answered_with_pong_carrying_the_same_id()
    {
        await using var server = await StartAsync();
        await using var relay = await ConnectAsync(server);
        await relay.SendAsync(new JsonObject { ["id"] = "p-1", ["type"] = "ping" });
        var pong = await relay.NextOtherAsync();
        Assert.Equal("pong", (string?)pong["type"]);
        Assert.Equal("p-1", (string?)pong["id"]);
    }

    [Fact]
    public async Task Count_tokens_asks_the_relay_without_generation_settings_tools_or_safety_settings()
    {
        await using var server = await StartAsync();
        await using var relay = await ConnectAsync(server);

        var call = server.PostJsonAsync("/v1/messages/count_tokens",
            """{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":{"type":"object"}}]}""");
        var request = await relay.NextRequestAsync();
        Assert.EndsWith($"/v1beta/models/{Model}:countTokens", request.Url);
        Assert.Null(request.Json["tools"]);
        Assert.Null(request.Json["generationConfig"]);
        await relay.RespondAsync(request.Id, 200, """{"totalTokens": 12}""");
        using var response = await call;
        Assert.Equal(12, (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["input_tokens"]!);
    }

    [Fact]
    public async Task Ws_auth_is_on_by_default()
    {
        await using var server = await StartAsync("api-keys: [\"relay-client-key\"]");
        await Assert.ThrowsAsync<WebSocketException>(() => FakeRelay.ConnectAsync(server, "ffffffffffffffff"));
        await using var keyed = await ConnectAsync(server, "ffffffffffffffff", bearer: "relay-client-key");
        Assert.Equal(["aistudio-ffffffffffffffff"], RelayIds(server));
    }

    [Fact]
    public async Task Ws_auth_protects_v1_ws_and_turning_it_on_closes_key_less_relays_with_a_policy_violation()
    {
        const string Key = "relay-client-key";
        await using var server = await StartAsync($"api-keys: [\"{Key}\"]\nws-auth: false");
        await using var open = await ConnectAsync(server, "dddddddddddddddd");
        await using var keyed = await ConnectAsync(server, "eeeeeeeeeeeeeeee", bearer: Key);

        await server.WriteConfigAsync($"api-keys: [\"{Key}\"]\nws-auth: true");

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await open.WaitClosedAsync());
        Assert.Contains("ws-auth", open.CloseDescription);
        await TestServer.EventuallyAsync(() => Task.FromResult(RelayIds(server).SequenceEqual(["aistudio-eeeeeeeeeeeeeeee"])), "the key-less relay's account is withdrawn");
        await Assert.ThrowsAsync<WebSocketException>(() => FakeRelay.ConnectAsync(server, "dddddddddddddddd"));
        await using var back = await ConnectAsync(server, "dddddddddddddddd", bearer: Key);
        Assert.Equal(2, RelayIds(server).Length);
    }

    /// <summary>Whichever relay got the request (the scheduler's choice), with it.</summary>
    internal static async Task<(FakeRelay Relay, RelayRequest Request)> FirstRequestAsync(FakeRelay a, FakeRelay b)
    {
        var deadline = DateTime.UtcNow + FakeRelay.Guard;
        while (DateTime.UtcNow < deadline)
        {
            if (a.TryTakeRequest(out var fromA)) return (a, fromA!);
            if (b.TryTakeRequest(out var fromB)) return (b, fromB!);
            await Task.Delay(10);
        }
        throw new TimeoutException("no relay received the request");
    }

    internal static async Task<string> ReadUntilAsync(StreamReader reader, string marker)
    {
        var seen = new StringBuilder();
        while (!seen.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var line = await reader.ReadLineAsync().WaitAsync(FakeRelay.Guard) ?? throw new InvalidOperationException("stream ended before " + marker);
            seen.AppendLine(line);
        }
        return seen.ToString();
    }
}
