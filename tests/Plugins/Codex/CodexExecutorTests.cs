using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Codex;

/// <summary>The Codex executor against a fake Codex backend: headers per account kind, body rules, aggregation, cut streams, failures.</summary>
public sealed class CodexExecutorTests : IAsyncLifetime
{
    private FakeCodex _codex = null!;
    private readonly HttpClient _http = new();
    private static IExecutor Executor => CodexPluginUnderTest.Plugin.Executor;

    public async Task InitializeAsync() => _codex = await FakeCodex.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _codex.DisposeAsync();
    }

    private UpstreamCall OAuthCall(IReadOnlyDictionary<string, string>? headers = null, string model = "gpt-5-codex", TimeProvider? clock = null) =>
        CodexCalls.For(CodexCredentials.OAuth(), _http, _codex.BaseUrl, model, headers, clock);

    private static ChatRequest Hi(bool stream = false) => new()
    {
        Model = "gpt-5-codex",
        Stream = stream,
        System = [new TextPart("Be brief.")],
        Messages = [new Message(Role.User, new TextPart("hi"))],
        Sampling = new SamplingOptions { MaxOutputTokens = 100, Temperature = 0.2, TopP = 0.9 },
    };

    private static string Text(ChatResponse response) => string.Concat(response.Choices[0].Parts.OfType<TextPart>().Select(p => p.Text));

    [Fact]
    public void The_plugin_owns_codex_credentials_speaks_Responses_and_only_streams()
    {
        var plugin = CodexPluginUnderTest.Plugin;
        Assert.Equal("codex", plugin.Id);
        Assert.Equal(["codex"], plugin.CredentialTypes);
        Assert.Equal(Dialect.OpenAIResponses, plugin.NativeDialect);
        Assert.True(plugin.Executor.StreamsOnly);
        Assert.Equal(TimeSpan.FromDays(5), plugin.Authenticator!.RefreshLead);
        Assert.Contains(plugin.Models, m => m.Id == "gpt-5.2-codex" && m.Thinking!.Levels.Contains("xhigh"));
    }

    [Fact]
    public async Task OAuth_accounts_send_the_Codex_CLI_headers_with_the_ChatGPT_account()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi"])));

        var answer = await Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None);

        Assert.Equal("Hi", Text(answer));
        var request = Assert.Single(_codex.Requests);
        Assert.Equal("/backend-api/codex/responses", request.Path);
        Assert.Equal("Bearer at-oauth-123456", request.Header("authorization"));
        Assert.Equal("acct-123", request.Header("chatgpt-account-id"));
        Assert.Equal("codex_cli_rs", request.Header("originator"));
        Assert.Equal("0.98.0", request.Header("version"));
        Assert.Equal("responses=experimental", request.Header("openai-beta"));
        Assert.StartsWith("codex_cli_rs/", request.Header("user-agent"));
        Assert.Equal("text/event-stream", request.Header("accept"));
        Assert.True(Guid.TryParse(request.Header("session_id"), out _));
    }

    [Fact]
    public async Task Api_key_accounts_send_a_bearer_key_to_their_base_url_and_no_ChatGPT_headers()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi"])));
        var call = CodexCalls.For(CodexCredentials.ApiKey(_codex.BaseUrl.Replace("/backend-api/codex", "/v1")), _http, "http://127.0.0.1:1/unused");

        await Executor.CompleteAsync(call, Hi(), CancellationToken.None);

        var request = Assert.Single(_codex.Requests);
        Assert.Equal("/v1/responses", request.Path);
        Assert.Equal("Bearer sk-codex-key-123456", request.Header("authorization"));
        Assert.Null(request.Header("chatgpt-account-id"));
        Assert.Null(request.Header("originator"));
    }

    [Fact]
    public async Task A_Codex_clients_own_headers_are_forwarded_and_others_user_agents_are_not()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["a"])), CodexSse.Reply(CodexSse.Text(["b"])));
        var codexHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["user-agent"] = "codex_cli_rs/0.120.0 (Linux; x86_64)", ["originator"] = "codex_exec", ["version"] = "0.120.0", ["session_id"] = "sess-42",
            ["x-codex-turn-state"] = "ts-1", ["x-codex-window-id"] = "w-1", ["x-client-request-id"] = "cr-1", ["x-codex-beta-features"] = "f1",
        };

        await Executor.CompleteAsync(OAuthCall(codexHeaders), Hi(), CancellationToken.None);
        await Executor.CompleteAsync(OAuthCall(new Dictionary<string, string> { ["user-agent"] = "OpenAI/.NET 2.15" }), Hi(), CancellationToken.None);

        var first = _codex.Requests[0];
        Assert.Equal("codex_cli_rs/0.120.0 (Linux; x86_64)", first.Header("user-agent"));
        Assert.Equal("codex_exec", first.Header("originator"));
        Assert.Equal("0.120.0", first.Header("version"));
        Assert.Equal("sess-42", first.Header("session_id"));
        Assert.Equal("sess-42", (string?)first.Json!["prompt_cache_key"]);
        foreach (var name in new[] { "x-codex-turn-state", "x-codex-window-id", "x-client-request-id", "x-codex-beta-features" })
            Assert.Equal(codexHeaders[name], first.Header(name));
        Assert.StartsWith("codex_cli_rs/0.98.0", _codex.Requests[1].Header("user-agent"));
    }

    [Fact]
    public async Task Translated_bodies_follow_the_backend_rules()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi"])));
        var request = Hi();
        request.Reasoning = new ReasoningConfig { Effort = "max" };

        await Executor.CompleteAsync(OAuthCall(model: "gpt-5"), request, CancellationToken.None);

        var body = Assert.Single(_codex.Requests).Json!;
        Assert.Equal("gpt-5", (string?)body["model"]);
        Assert.True((bool)body["stream"]!);
        Assert.False((bool)body["store"]!);
        Assert.True((bool)body["parallel_tool_calls"]!);
        Assert.Equal("Be brief.", (string?)body["instructions"]);
        Assert.Equal(["reasoning.encrypted_content"], body["include"]!.AsArray().Select(n => (string)n!));
        foreach (var removed in new[] { "max_output_tokens", "temperature", "top_p", "user" }) Assert.False(body.ContainsKey(removed), removed);
        // gpt-5 has no xhigh: Anthropic's max is clamped to the highest level it has.
        Assert.Equal("high", (string?)body["reasoning"]!["effort"]);
        Assert.Equal("auto", (string?)body["reasoning"]!["summary"]);
    }

    [Theory]
    [InlineData("max", "gpt-5.2-codex", "xhigh")]
    [InlineData("xhigh", "gpt-5.2-codex", "xhigh")]
    [InlineData("xhigh", "gpt-5-codex", "high")]
    [InlineData("minimal", "gpt-5-codex", "low")]
    [InlineData("none", "gpt-5.1", "none")]
    [InlineData("max", "some-future-model", "xhigh")]
    public async Task Efforts_from_every_dialect_become_levels_the_model_takes(string effort, string model, string expected)
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["ok"])));
        var request = Hi();
        request.Reasoning = new ReasoningConfig { Effort = effort };

        await Executor.CompleteAsync(OAuthCall(model: model), request, CancellationToken.None);

        Assert.Equal(expected, (string?)Assert.Single(_codex.Requests).Json!["reasoning"]!["effort"]);
    }

    [Fact]
    public async Task A_budget_from_a_budget_dialect_becomes_a_level()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["ok"])));
        var request = Hi();
        request.Reasoning = new ReasoningConfig { BudgetTokens = 50000, IncludeThoughts = true };

        await Executor.CompleteAsync(OAuthCall(model: "gpt-5-codex"), request, CancellationToken.None);

        Assert.Equal("high", (string?)Assert.Single(_codex.Requests).Json!["reasoning"]!["effort"]);
    }

    [Fact]
    public async Task A_Claude_clients_user_keys_a_stable_prompt_cache()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["a"])), CodexSse.Reply(CodexSse.Text(["b"])), CodexSse.Reply(CodexSse.Text(["c"])));
        ChatRequest For(string user) { var r = Hi(); r.User = user; return r; }

        await Executor.CompleteAsync(OAuthCall(), For("user_abc_session_1"), CancellationToken.None);
        await Executor.CompleteAsync(OAuthCall(), For("user_abc_session_1"), CancellationToken.None);
        await Executor.CompleteAsync(OAuthCall(), For("user_abc_session_2"), CancellationToken.None);

        var keys = _codex.Requests.Select(r => (string?)r.Json!["prompt_cache_key"]).ToList();
        Assert.True(Guid.TryParse(keys[0], out _));
        Assert.Equal(keys[0], keys[1]);
        Assert.NotEqual(keys[0], keys[2]);
        Assert.Equal(keys[0], _codex.Requests[0].Header("session_id"));
        Assert.Equal(keys[0], _codex.Requests[0].Header("conversation_id"));
    }

    [Fact]
    public async Task A_non_streaming_client_gets_the_stream_aggregated()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi", " from", " Codex"])));

        var answer = await Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None);

        Assert.Equal("Hi from Codex", Text(answer));
        Assert.Equal(FinishReason.Stop, answer.Choices[0].FinishReason);
        Assert.Equal(9, answer.Usage!.InputTokens);
        Assert.True((bool)Assert.Single(_codex.Requests).Json!["stream"]!);
    }

    [Fact]
    public async Task A_stream_that_ends_before_response_completed_is_an_error_not_a_short_answer()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi", " fro"], complete: false)));

        var e = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));

        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Equal(502, e.StatusCode);
    }

    [Fact]
    public async Task Passthrough_bodies_get_the_same_rules()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["ok"])));
        var client = """
            {"model":"gpt-5-codex","input":[{"type":"message","role":"system","content":"sys"},{"type":"message","role":"user","content":"hi"}],
             "store":true,"max_output_tokens":50,"temperature":1,"previous_response_id":"resp_old","service_tier":"flex","include":["file_search_call.results"],
             "prompt_cache_key":"pck-7","reasoning":{"effort":"max"}}
            """;

        await using var response = await Executor.SendNativeAsync(OAuthCall(model: "gpt-5.1-codex-max"), CodexCalls.Native(client, stream: true), CancellationToken.None);
        await response.Body.CopyToAsync(Stream.Null);

        var request = Assert.Single(_codex.Requests);
        var body = request.Json!;
        Assert.Equal("gpt-5.1-codex-max", (string?)body["model"]);
        Assert.False((bool)body["store"]!);
        Assert.True((bool)body["stream"]!);
        Assert.Equal("", (string?)body["instructions"]);
        Assert.Equal("developer", (string?)body["input"]![0]!["role"]);
        Assert.Equal(["file_search_call.results", "reasoning.encrypted_content"], body["include"]!.AsArray().Select(n => (string)n!));
        foreach (var removed in new[] { "max_output_tokens", "temperature", "previous_response_id", "service_tier" }) Assert.False(body.ContainsKey(removed), removed);
        Assert.Equal("xhigh", (string?)body["reasoning"]!["effort"]);
        Assert.Equal("pck-7", (string?)body["prompt_cache_key"]);
        Assert.Equal("pck-7", request.Header("session_id"));
    }

    [Fact]
    public async Task A_string_input_becomes_a_user_message()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["ok"])));

        await using var response = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native("""{"model":"m","input":"hello"}""", stream: false), CancellationToken.None);

        var input = Assert.Single(_codex.Requests).Json!["input"]!.AsArray();
        Assert.Equal("user", (string?)input[0]!["role"]);
        Assert.Equal("hello", (string?)input[0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task A_non_streaming_passthrough_client_gets_the_completed_response_object()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi", " there"])));

        await using var response = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native("""{"model":"gpt-5-codex","input":"hi","stream":false}""", stream: false), CancellationToken.None);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json", response.ContentType);
        var json = JsonNode.Parse(response.Body)!;
        Assert.Equal("response", (string?)json["object"]);
        Assert.Equal("completed", (string?)json["status"]);
        Assert.Equal("Hi there", (string?)json["output"]![0]!["content"]![0]!["text"]);
        Assert.True((bool)Assert.Single(_codex.Requests).Json!["stream"]!);
    }

    [Fact]
    public async Task A_non_streaming_passthrough_whose_stream_is_cut_fails_before_anything_is_sent()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Text(["Hi"], complete: false)));

        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native("""{"model":"m","input":"hi"}""", stream: false), CancellationToken.None));

        Assert.Equal(502, e.StatusCode);
    }

    [Fact]
    public async Task A_streaming_passthrough_relays_the_bytes_and_fails_its_last_read_when_the_stream_is_cut()
    {
        var events = CodexSse.Text(["Hi"], complete: false);
        _codex.Enqueue(CodexSse.Reply(events), CodexSse.Reply(CodexSse.Text(["Hi"])));

        await using (var cut = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native("""{"model":"m","input":"hi","stream":true}""", stream: true), CancellationToken.None))
        {
            var received = new MemoryStream();
            var e = await Assert.ThrowsAsync<UpstreamException>(() => cut.Body.CopyToAsync(received));
            Assert.Equal(502, e.StatusCode);
            Assert.Equal(string.Concat(events), Encoding.UTF8.GetString(received.ToArray()));
        }
        await using var whole = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native("""{"model":"m","input":"hi","stream":true}""", stream: true), CancellationToken.None);
        var text = await new StreamReader(whole.Body).ReadToEndAsync();
        Assert.EndsWith(CodexSse.Text(["Hi"])[^1], text);
    }

    [Fact]
    public async Task A_compaction_trigger_goes_upstream_and_its_compaction_item_comes_back()
    {
        _codex.Enqueue(CodexSse.Reply(CodexSse.Compaction("enc-xyz")));
        var client = """{"model":"gpt-5-codex","input":[{"type":"message","role":"user","content":"long talk"},{"type":"compaction_trigger"}]}""";

        await using var response = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native(client, stream: false), CancellationToken.None);

        var sent = Assert.Single(_codex.Requests).Json!["input"]!.AsArray();
        Assert.Equal("compaction_trigger", (string?)sent[1]!["type"]);
        var output = JsonNode.Parse(response.Body)!["output"]!.AsArray();
        var item = Assert.Single(output)!;
        Assert.Equal("compaction", (string?)item["type"]);
        Assert.Equal("enc-xyz", (string?)item["encrypted_content"]);
    }

    [Fact]
    public async Task Compact_goes_to_responses_compact_as_json_without_stream()
    {
        _codex.Enqueue(FakeReply.Json(new JsonObject { ["output"] = new JsonArray(new JsonObject { ["type"] = "compaction", ["encrypted_content"] = "enc" }) }));
        var client = """{"model":"gpt-5-codex","input":[{"type":"message","role":"user","content":"hi"}],"stream":true,"max_output_tokens":5}""";

        await using var response = await Executor.SendNativeAsync(OAuthCall(), CodexCalls.Native(client, stream: false, operation: "compact"), CancellationToken.None);

        var request = Assert.Single(_codex.Requests);
        Assert.Equal("/backend-api/codex/responses/compact", request.Path);
        Assert.Equal("application/json", request.Header("accept"));
        Assert.False(request.Json!.ContainsKey("stream"));
        Assert.False(request.Json!.ContainsKey("max_output_tokens"));
        Assert.Equal("enc", (string?)JsonNode.Parse(response.Body)!["output"]![0]!["encrypted_content"]);
    }

    [Fact]
    public async Task Usage_limit_reached_cools_the_whole_credential_until_resets_in_seconds()
    {
        _codex.Enqueue(FakeReply.Error(429, """{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_in_seconds":5400}}"""));

        var e = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));

        Assert.Equal(FailureKind.Quota, e.Kind);
        Assert.Equal(FailureScope.Credential, e.Scope);
        Assert.Equal(TimeSpan.FromSeconds(5400), e.RetryAfter);
        Assert.Equal("The usage limit has been reached", e.Message);
    }

    [Fact]
    public async Task Failures_inside_a_translated_stream_keep_their_Codex_meaning()
    {
        string Failed(string error) => CodexSse.Event(new JsonObject
        {
            ["type"] = "response.failed",
            ["response"] = new JsonObject { ["id"] = "resp_1", ["status"] = "failed", ["error"] = JsonNode.Parse(error) },
        });
        _codex.Enqueue(FakeReply.Sse([Failed("""{"type":"usage_limit_reached","message":"limit","resets_in_seconds":600}""")]));
        var limit = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));
        Assert.Equal((FailureKind.Quota, FailureScope.Credential, TimeSpan.FromSeconds(600)), (limit.Kind, limit.Scope, limit.RetryAfter));

        _codex.Enqueue(FakeReply.Sse([Failed("""{"code":"context_length_exceeded","message":"Your input exceeds the context window"}""")]));
        var tooLong = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));
        Assert.Equal((FailureKind.ClientError, FailureScope.Request, 400), (tooLong.Kind, tooLong.Scope, tooLong.StatusCode));

        _codex.Enqueue(FakeReply.Sse([Failed("""{"code":"server_error","message":"oops"}""")]));
        var transient = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));
        Assert.Equal(FailureKind.Transient, transient.Kind);
    }

    [Fact]
    public async Task Usage_limit_reached_with_resets_at_waits_until_then()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        _codex.Enqueue(FakeReply.Error(429, """{"error":{"type":"usage_limit_reached","message":"limit","resets_at":1800003600}}"""));

        var e = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(clock: clock), Hi(), CancellationToken.None));

        Assert.Equal(FailureScope.Credential, e.Scope);
        Assert.Equal(TimeSpan.FromHours(1), e.RetryAfter);
    }

    [Theory]
    [InlineData(401, """{"error":{"message":"token expired"}}""", FailureKind.AuthRevoked, FailureScope.Credential)]
    [InlineData(403, """{"error":{"message":"account deactivated"}}""", FailureKind.Forbidden, FailureScope.Credential)]
    [InlineData(400, """{"detail":"The 'gpt-5.3-codex' model is not supported when using Codex with a ChatGPT account."}""", FailureKind.Forbidden, FailureScope.Model)]
    [InlineData(429, """{"error":{"type":"rate_limit_exceeded","message":"slow down"}}""", FailureKind.Quota, FailureScope.Model)]
    [InlineData(400, """{"error":{"type":"invalid_request_error","message":"bad input"}}""", FailureKind.ClientError, FailureScope.Request)]
    public async Task Failures_are_scoped(int status, string body, FailureKind kind, FailureScope scope)
    {
        _codex.Enqueue(FakeReply.Error(status, body));

        var e = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CompleteAsync(OAuthCall(), Hi(), CancellationToken.None));

        Assert.Equal(kind, e.Kind);
        Assert.Equal(scope, e.Scope);
        Assert.DoesNotContain("at-oauth", e.Message);
    }
}
