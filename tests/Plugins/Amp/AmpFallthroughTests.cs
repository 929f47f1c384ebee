using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>
/// Inference fall-through: a model call on Amp's provider paths that no local account and no mapping serves goes to a
/// fake ampcode.com (under <c>/amp-base</c>) as the client sent it, with the Amp key, and is warned about every time.
/// </summary>
public sealed class AmpFallthroughTests : IAsyncLifetime
{
    private const string Messages = "/api/provider/anthropic/v1/messages";

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FakeOpenAIUpstream _openai = null!;
    private FakeUpstreamHost _ampcode = null!;

    public async Task InitializeAsync()
    {
        _openai = await FakeOpenAIUpstream.StartAsync();
        _openai.RespondWith(_ => ChatReply.Text("local answer"));
        _ampcode = await FakeUpstreamHost.StartAsync(AnswerAsync);
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _ampcode.DisposeAsync();
        await _openai.DisposeAsync();
    }

    private string Ampcode(string extra = "") => $"""
        ampcode:
          upstream-url: "{_ampcode.Root}amp-base"
          upstream-api-key: "amp-default"
          upstream-api-keys:
            - upstream-api-key: "amp-for-second-client"
              api-keys: ["{AmpTestServer.OtherClientKey}"]
          model-mappings:
            - from: "claude-mapped"
              to: "{AmpTestServer.ClientModel}"
        {extra}
        """;

    /// <summary>A streaming request gets two SSE events, the second held until the test releases it; anything else a JSON answer.</summary>
    private async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.BodyText.Contains("\"stream\":true") || request.Path.Contains("streamGenerateContent"))
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("event: message_start\ndata: {\"type\":\"message_start\"}\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            await _release.Task.WaitAsync(http.RequestAborted);
            await http.Response.WriteAsync("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", http.RequestAborted);
            return;
        }
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"type":"message","model":"claude-from-ampcode","content":[{"type":"text","text":"ampcode answer"}]}""", http.RequestAborted);
    }

    [Fact]
    public async Task A_model_nothing_serves_goes_to_ampcode_as_sent_with_the_amp_key_and_a_warning()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        var body = MessagesBody("claude-nobody-serves");
        using var request = new HttpRequestMessage(HttpMethod.Post, Messages + $"?beta=true&key={AmpTestServer.ClientKey}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-api-key", AmpTestServer.ClientKey);
        request.Headers.TryAddWithoutValidation("Anthropic-Beta", "context-1m-2025-08-07");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("ampcode answer", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["content"]![0]!["text"]);
        var seen = Assert.Single(_ampcode.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/amp-base" + Messages, seen.Path);
        Assert.Equal("?beta=true", seen.Query);
        Assert.Equal(body, seen.BodyText); // the client's bytes: the model is not rewritten
        Assert.Equal("Bearer amp-default", seen.Header("Authorization"));
        Assert.Equal("amp-default", seen.Header("X-Api-Key"));
        Assert.Equal("context-1m-2025-08-07", seen.Header("Anthropic-Beta"));
        Assert.DoesNotContain(seen.Headers.Values, v => v.Contains(AmpTestServer.ClientKey));
        Assert.Empty(_openai.ChatRequests);

        var warning = Assert.Single(WarningsAbout(server, "claude-nobody-serves"));
        Assert.Contains("Amp credits", warning);
        Assert.Contains("ampcode.model-mappings", warning);
        Assert.Contains(_ampcode.Root.Authority, warning);
        Assert.DoesNotContain("amp-default", server.Logs);
    }

    [Fact]
    public async Task Each_client_key_brings_its_own_amp_key_and_every_fall_through_is_warned_about()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        using var second = new HttpClient { BaseAddress = server.Address };
        second.DefaultRequestHeaders.Authorization = new("Bearer", AmpTestServer.OtherClientKey);

        using (var first = await server.PostJsonAsync(Messages, MessagesBody("claude-twice")))
            Assert.Equal(200, (int)first.StatusCode);
        using (var again = await second.PostAsync(Messages, new StringContent(MessagesBody("claude-twice"), Encoding.UTF8, "application/json")))
            Assert.Equal(200, (int)again.StatusCode);

        Assert.Equal(["Bearer amp-default", "Bearer amp-for-second-client"], _ampcode.Requests.Select(r => r.Header("Authorization")));
        Assert.Equal(2, WarningsAbout(server, "claude-twice").Count);
    }

    [Fact]
    public async Task A_stream_from_ampcode_is_relayed_as_it_arrives()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        var body = MessagesBody("claude-nobody-streams").Replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\"");

        using var response = await server.PostJsonAsync(Messages, body, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        // ampcode holds its second event until the first reached the client.
        Assert.Equal("event: message_start", await reader.ReadLineAsync());
        Assert.Equal("data: {\"type\":\"message_start\"}", await reader.ReadLineAsync());
        _release.SetResult();
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Equal("event: message_stop", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task A_gemini_call_keeps_its_path_and_query_without_the_clients_key()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        _release.SetResult();
        using var client = new HttpClient { BaseAddress = server.Address };

        using var response = await client.PostAsync(
            $"/api/provider/google/v1beta/models/gemini-nobody:streamGenerateContent?alt=sse&key={AmpTestServer.ClientKey}",
            new StringContent("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(200, (int)response.StatusCode);
        var seen = Assert.Single(_ampcode.Requests);
        Assert.Equal("/amp-base/api/provider/google/v1beta/models/gemini-nobody:streamGenerateContent", seen.Path);
        Assert.Equal("?alt=sse", seen.Query);
        Assert.Equal("Bearer amp-default", seen.Header("Authorization"));
        Assert.Null(seen.Header("x-goog-api-key"));
    }

    [Fact]
    public async Task A_mapped_or_locally_served_model_never_falls_through()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());

        using (var mapped = await server.PostJsonAsync(Messages, MessagesBody("claude-mapped")))
        {
            var text = await mapped.Content.ReadAsStringAsync();
            Assert.True((int)mapped.StatusCode == 200, text);
            Assert.Contains("local answer", text);
        }
        using (var local = await server.PostJsonAsync("/api/provider/openai/v1/chat/completions",
                   $$"""{"model":"{{AmpTestServer.ClientModel}}","messages":[{"role":"user","content":"hi"}]}"""))
            Assert.Equal(200, (int)local.StatusCode);
        // Amp's paths only: the plain routes answer their own 404.
        using (var plain = await server.PostJsonAsync("/v1/messages", MessagesBody("claude-nobody-serves")))
            Assert.Equal(404, (int)plain.StatusCode);

        Assert.Empty(_ampcode.Requests);
        Assert.Equal(2, _openai.ChatRequests.Count);
        Assert.DoesNotContain("Amp credits", server.Logs);
    }

    [Fact]
    public async Task A_served_model_whose_accounts_are_all_cooling_is_answered_locally_not_forwarded()
    {
        _openai.RespondWith(_ => FakeReply.Error(429, """{"error":{"message":"quota exhausted","type":"rate_limit"}}""",
            new Dictionary<string, string> { ["Retry-After"] = "600" }));
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        var path = "/api/provider/openai/v1/chat/completions";
        var body = $$"""{"model":"{{AmpTestServer.ClientModel}}","messages":[{"role":"user","content":"hi"}]}""";

        using (var first = await server.PostJsonAsync(path, body)) Assert.Equal(429, (int)first.StatusCode);
        var upstreamCalls = _openai.ChatRequests.Count;
        using (var cooling = await server.PostJsonAsync(path, body))
            Assert.Equal(429, (int)cooling.StatusCode); // the host's all-cooling answer, not ampcode's

        Assert.Equal(upstreamCalls, _openai.ChatRequests.Count); // the cooling account was not called again
        Assert.Empty(_ampcode.Requests);
        Assert.DoesNotContain("Amp credits", server.Logs);
    }

    [Fact]
    public async Task The_switch_forbids_fall_through_and_reloads_live()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode("  forbid-inference-fallthrough: true"));

        using (var refused = await server.PostJsonAsync(Messages, MessagesBody("claude-forbidden")))
        {
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal(404, (int)refused.StatusCode);
            Assert.Equal("error", (string?)error["type"]); // the local handler's error, in the Anthropic dialect
            Assert.Contains("claude-forbidden", (string?)error["error"]!["message"]);
        }
        Assert.Empty(_ampcode.Requests);
        var warning = Assert.Single(WarningsAbout(server, "claude-forbidden"));
        Assert.Contains("forbid-inference-fallthrough", warning);
        Assert.DoesNotContain("Amp credits,", warning);

        await server.WriteConfigAsync(AmpTestServer.Config(_openai, Ampcode()));
        await TestServer.EventuallyAsync(async () =>
        {
            using var response = await server.PostJsonAsync(Messages, MessagesBody("claude-forbidden"));
            return (int)response.StatusCode == 200;
        }, "fall-through is allowed again");
        Assert.Equal("/amp-base" + Messages, _ampcode.Requests[^1].Path);
    }

    [Fact]
    public async Task An_unreachable_ampcode_is_a_502_in_the_clients_dialect()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode().Replace(_ampcode.Root.ToString(), "http://127.0.0.1:9/"));

        using var response = await server.PostJsonAsync("/api/provider/openai/v1/chat/completions", """{"model":"gpt-nobody","messages":[{"role":"user","content":"hi"}]}""");
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(502, (int)response.StatusCode);
        Assert.NotNull((string?)error["error"]!["message"]); // OpenAI's error shape
        Assert.Null(error["type"]);
    }

    [Fact]
    public async Task The_plugin_can_be_removed_and_added_back_while_the_server_runs()
    {
        await using var server = await AmpTestServer.StartAsync(_openai, Ampcode());
        var folder = Path.Combine(server.PluginsFolder, AmpPlugin.FolderName);
        using (var before = await server.PostJsonAsync(Messages, MessagesBody("claude-mapped")))
            Assert.Equal(200, (int)before.StatusCode);

        Directory.Delete(folder, recursive: true);
        await TestServer.EventuallyAsync(async () =>
        {
            using var gone = await server.PostJsonAsync(Messages, MessagesBody("claude-mapped"));
            return (int)gone.StatusCode == 404;
        }, "the Amp routes disappear");

        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "plugins", AmpPlugin.FolderName)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        await TestServer.EventuallyAsync(async () =>
        {
            using var back = await server.PostJsonAsync(Messages, MessagesBody("claude-mapped"));
            return (int)back.StatusCode == 200;
        }, "the Amp routes and mappings are back");
        using (var threads = await server.Client.GetAsync("/api/threads"))
            Assert.Equal(200, (int)threads.StatusCode);
        using (var fallthrough = await server.PostJsonAsync(Messages, MessagesBody("claude-after-readd")))
            Assert.Equal(200, (int)fallthrough.StatusCode);
        Assert.Equal("/amp-base" + Messages, _ampcode.Requests[^1].Path);
    }

    private static List<string> WarningsAbout(TestServer server, string model) =>
        [.. server.Logs.Split('\n').Where(line => line.StartsWith("[Warning]") && Regex.IsMatch(line, $@"\b{Regex.Escape(model)}\b") && line.Contains("Amp requested model"))];

    private static string MessagesBody(string model) => $$"""{"model":"{{model}}","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""";
}
