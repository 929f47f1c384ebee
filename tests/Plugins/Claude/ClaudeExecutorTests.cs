using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary>The Claude executor's requests (URL, headers, body edits) and answers, against an in-memory handler.</summary>
public sealed class ClaudeExecutorTests
{
    private static IExecutor Executor => ClaudePluginUnderTest.Executor;

    private static (HttpClient Http, CapturingHandler Handler) Upstream(Func<HttpRequestMessage, HttpResponseMessage>? reply = null)
    {
        var handler = new CapturingHandler(reply ?? (_ => CapturingHandler.Json("""{"id":"m","type":"message","role":"assistant","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}""")));
        return (new HttpClient(handler), handler);
    }

    private static NativeRequest Native(string json, bool stream = false, string? operation = null) =>
        new() { Body = Encoding.UTF8.GetBytes(json), Stream = stream, Operation = operation };

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private const string Simple = """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task An_api_key_on_anthropics_host_goes_in_x_api_key_with_the_claude_code_identity()
    {
        var (http, handler) = Upstream();
        await using var answer = await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http), Native(Simple), default);

        var (request, _) = Assert.Single(handler.Requests);
        Assert.Equal("https://api.anthropic.com/v1/messages?beta=true", request.RequestUri!.ToString());
        Assert.Equal("sk-ant-api03-test", Header(request, "x-api-key"));
        Assert.Null(request.Headers.Authorization);
        Assert.Equal("cli", Header(request, "x-app"));
        Assert.Equal("2023-06-01", Header(request, "anthropic-version"));
        Assert.StartsWith("claude-cli/", Header(request, "user-agent"));
        Assert.Equal("js", Header(request, "x-stainless-lang"));
        Assert.DoesNotContain("oauth-2025-04-20", Header(request, "anthropic-beta") ?? "");
    }

    [Fact]
    public async Task An_api_key_behind_a_gateway_and_an_oauth_token_go_as_bearer_tokens()
    {
        var (http, handler) = Upstream();
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(baseUrl: "https://gateway.example/anthropic"), http), Native(Simple), default)) { }
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.OAuthFile(), http), Native(Simple), default)) { }

        var gateway = handler.Requests[0].Request;
        Assert.Equal("https://gateway.example/anthropic/v1/messages?beta=true", gateway.RequestUri!.ToString());
        Assert.Equal(new AuthenticationHeaderValue("Bearer", "sk-ant-api03-test"), gateway.Headers.Authorization);
        Assert.Null(Header(gateway, "x-api-key"));
        var oauth = handler.Requests[1].Request;
        Assert.Equal(new AuthenticationHeaderValue("Bearer", "sk-ant-oat01-test-token"), oauth.Headers.Authorization);
        Assert.Null(Header(oauth, "x-api-key"));
        var betas = Header(oauth, "anthropic-beta")!.Split(',');
        Assert.Contains("oauth-2025-04-20", betas);
        Assert.Contains("claude-code-20250219", betas);
    }

    [Fact]
    public async Task Betas_merge_the_client_header_oauth_and_the_body_field_which_leaves_the_body()
    {
        var (http, handler) = Upstream();
        var headers = new Dictionary<string, string> { ["anthropic-beta"] = "interleaved-thinking-2025-05-14, context-1m-2025-08-07", ["user-agent"] = "claude-cli/2.1.300 (external, cli)" };
        var body = """{"model":"m","max_tokens":64,"betas":["files-api-2025-04-14","context-1m-2025-08-07"],"context_management":{"edits":[]},"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}""";
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.OAuthFile(), http, headers), Native(body), default)) { }

        var (request, sent) = Assert.Single(handler.Requests);
        Assert.Equal(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "claude-code-20250219", "oauth-2025-04-20", "files-api-2025-04-14", "context-management-2025-06-27"],
            Header(request, "anthropic-beta")!.Split(','));
        var json = JsonNode.Parse(sent)!.AsObject();
        Assert.False(json.ContainsKey("betas"));
        Assert.NotNull(json["context_management"]);
        Assert.Equal("claude-cli/2.1.300 (external, cli)", request.Headers.UserAgent.ToString()); // a real Claude Code keeps its own
    }

    [Fact]
    public async Task A_client_beta_of_the_same_family_is_not_doubled_for_a_body_field()
    {
        var (http, handler) = Upstream();
        var headers = new Dictionary<string, string> { ["anthropic-beta"] = "context-management-2026-01-01" };
        var body = """{"model":"m","max_tokens":64,"context_management":{"edits":[]},"messages":[{"role":"user","content":"hi"}]}""";
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http, headers), Native(body), default)) { }

        Assert.Equal(["context-management-2026-01-01"], Header(handler.Requests[0].Request, "anthropic-beta")!.Split(','));
    }

    [Fact]
    public async Task Claude_code_on_an_api_key_passes_through_byte_for_byte()
    {
        var (http, handler) = Upstream();
        var headers = new Dictionary<string, string> { ["user-agent"] = "claude-cli/2.1.289 (external, cli)" };
        // Odd spacing and an escaped character: only an untouched body keeps them.
        var body = """{ "model":"claude-sonnet-4-5-20250929","max_tokens":64, "system":[{"type":"text","text":"be \u0062rief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}""";
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http, headers), Native(body), default)) { }

        Assert.Equal(body, Encoding.UTF8.GetString(handler.Requests[0].Body));
    }

    [Fact]
    public async Task Auto_cloaking_rewrites_other_clients_to_claude_codes_system_prompt_and_user_id()
    {
        var (http, handler) = Upstream();
        var body = """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"hi"}]}""";
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http, new Dictionary<string, string> { ["user-agent"] = "curl/8" }), Native(body), default)) { }

        var json = JsonNode.Parse(handler.Requests[0].Body)!;
        Assert.Equal("You are Claude Code, Anthropic's official CLI for Claude.", (string?)json["system"]![0]!["text"]);
        Assert.Equal("Be brief.", (string?)json["system"]![1]!["text"]);
        Assert.Matches("^user_[0-9a-f]{64}_account__session_[0-9a-f-]{36}$", (string?)json["metadata"]!["user_id"]);
    }

    [Fact]
    public async Task Strict_always_cloaking_keeps_only_the_identity_and_breaks_sensitive_words()
    {
        var (http, handler) = Upstream();
        var cloak = new JsonObject { ["mode"] = "always", ["strict-mode"] = true, ["sensitive-words"] = new JsonArray("ProxyCorp", "x") };
        var body = """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"system":[{"type":"text","text":"secret"}],"messages":[{"role":"user","content":"ask proxycorp now"}]}""";
        var headers = new Dictionary<string, string> { ["user-agent"] = "claude-cli/2.1.289 (external, cli)" };
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(cloak: cloak), http, headers), Native(body), default)) { }

        var json = JsonNode.Parse(handler.Requests[0].Body)!;
        var system = json["system"]!.AsArray();
        Assert.Equal("You are Claude Code, Anthropic's official CLI for Claude.", (string?)Assert.Single(system)!["text"]);
        Assert.Equal("ask p\u200Broxycorp now", (string?)json["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task Never_cloaking_leaves_the_system_prompt_alone()
    {
        var (http, handler) = Upstream();
        var cloak = new JsonObject { ["mode"] = "never" };
        var body = """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"system":[{"type":"text","text":"mine","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}""";
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(cloak: cloak), http, new Dictionary<string, string> { ["user-agent"] = "curl/8" }), Native(body), default)) { }

        Assert.Equal(body, Encoding.UTF8.GetString(handler.Requests[0].Body));
    }

    [Fact]
    public async Task Cache_control_is_injected_only_when_the_client_sent_none_and_thinking_goes_with_a_forced_tool()
    {
        var (http, handler) = Upstream();
        var headers = new Dictionary<string, string> { ["user-agent"] = "claude-cli/2.1.289" };
        var body = """
            {"model":"m","max_tokens":64,"thinking":{"type":"enabled","budget_tokens":2048},"tool_choice":{"type":"tool","name":"a"},
             "system":"sys","tools":[{"name":"a","input_schema":{"type":"object"}},{"name":"b","input_schema":{"type":"object"}}],
             "messages":[{"role":"user","content":"one"},{"role":"assistant","content":"ok"},{"role":"user","content":"two"}]}
            """;
        await using (await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http, headers), Native(body), default)) { }

        var json = JsonNode.Parse(handler.Requests[0].Body)!.AsObject();
        Assert.False(json.ContainsKey("thinking"));
        Assert.Null(json["tools"]![0]!["cache_control"]);
        Assert.Equal("ephemeral", (string?)json["tools"]![1]!["cache_control"]!["type"]);
        Assert.Equal("ephemeral", (string?)json["system"]![0]!["cache_control"]!["type"]);
        Assert.Equal("ephemeral", (string?)json["messages"]![0]!["content"]![0]!["cache_control"]!["type"]);
        Assert.Equal("two", (string?)json["messages"]![2]!["content"]); // the newest turn is not cached
    }

    [Fact]
    public async Task Oauth_tokens_get_proxy_prefixed_tool_names_and_answers_get_them_back()
    {
        var (http, handler) = Upstream(_ => CapturingHandler.Json("""{"id":"m","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"proxy_Read","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}"""));
        var body = """
            {"model":"m","max_tokens":64,"tool_choice":{"type":"tool","name":"Read"},
             "tools":[{"name":"Read","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],
             "messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_0","name":"Read","input":{}}]},
                         {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_0","content":"ok"}]}]}
            """;
        await using var answer = await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.OAuthFile(), http), Native(body), default);

        var json = JsonNode.Parse(handler.Requests[0].Body)!;
        Assert.Equal("proxy_Read", (string?)json["tools"]![0]!["name"]);
        Assert.Equal("web_search", (string?)json["tools"]![1]!["name"]);
        Assert.Equal("proxy_Read", (string?)json["tool_choice"]!["name"]);
        Assert.Equal("proxy_Read", (string?)json["messages"]![1]!["content"]![0]!["name"]);
        var relayed = JsonNode.Parse(await new StreamReader(answer.Body).ReadToEndAsync())!;
        Assert.Equal("Read", (string?)relayed["content"]![0]!["name"]);
    }

    [Fact]
    public async Task Oauth_streams_get_tool_names_back_and_every_other_byte_unchanged()
    {
        var sse = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[]}}\r\n\r\n"
            + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"proxy_Bash\",\"input\":{}}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"cmd\\\": \\\"echo \\\\\\\"proxy_x\\\\\\\"\\\"}\"}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var (http, _) = Upstream(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(sse, Encoding.UTF8, "text/event-stream") });
        await using var answer = await Executor.SendNativeAsync(ClaudeCalls.Call(ClaudeCalls.OAuthFile(), http), Native(Simple, stream: true), default);

        var relayed = await new StreamReader(answer.Body).ReadToEndAsync();
        Assert.Equal(sse.Replace("\"name\":\"proxy_Bash\"", "\"name\":\"Bash\""), relayed);
    }

    [Fact]
    public async Task Translated_oauth_streams_report_unprefixed_tool_names()
    {
        var events = string.Concat(AnthropicReplies.TextEvents("x").Take(1))
            + AnthropicReplies.Event("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "t1", ["name"] = "proxy_get_weather", ["input"] = new JsonObject() } })
            + AnthropicReplies.Event("content_block_stop", new JsonObject { ["index"] = 0 })
            + AnthropicReplies.Event("message_delta", new JsonObject { ["delta"] = new JsonObject { ["stop_reason"] = "tool_use" }, ["usage"] = new JsonObject { ["output_tokens"] = 3 } })
            + AnthropicReplies.Event("message_stop", new JsonObject());
        var (http, handler) = Upstream(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(events, Encoding.UTF8, "text/event-stream") });
        var request = new ChatRequest { Model = "m", Messages = [new Message { Role = Role.User, Parts = [new TextPart("weather?")] }], Tools = [new ToolDefinition { Name = "get_weather", Parameters = JsonNode.Parse("""{"type":"object"}""") }] };

        var response = await Executor.CompleteAsync(ClaudeCalls.Call(ClaudeCalls.OAuthFile(), http), request, default);

        Assert.Equal("get_weather", Assert.IsType<ToolCallPart>(Assert.Single(response.Choices[0].Parts)).Name);
        var sent = JsonNode.Parse(handler.Requests[0].Body)!;
        Assert.True((bool)sent["stream"]!);
        Assert.Equal("proxy_get_weather", (string?)sent["tools"]![0]!["name"]);
    }

    [Fact]
    public async Task Count_tokens_goes_to_its_endpoint_and_reads_input_tokens()
    {
        var (http, handler) = Upstream(_ => CapturingHandler.Json("""{"input_tokens":321}"""));
        var request = new ChatRequest { Model = "m", Sampling = new SamplingOptions { MaxOutputTokens = 100 }, Messages = [new Message { Role = Role.User, Parts = [new TextPart("count me")] }] };

        var count = await Executor.CountTokensAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http), request, default);

        Assert.Equal(321, count);
        var (sent, body) = Assert.Single(handler.Requests);
        Assert.Equal("/v1/messages/count_tokens", sent.RequestUri!.AbsolutePath);
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.False(json.ContainsKey("max_tokens"));
        Assert.False(json.ContainsKey("metadata"));
    }

    [Fact]
    public async Task A_failed_count_cools_nothing()
    {
        var (http, _) = Upstream(_ => CapturingHandler.Json("""{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}""", HttpStatusCode.TooManyRequests));
        var request = new ChatRequest { Model = "m", Messages = [new Message { Role = Role.User, Parts = [new TextPart("x")] }] };

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => Executor.CountTokensAsync(ClaudeCalls.Call(ClaudeCalls.ApiKey(), http), request, default));
        Assert.Equal(FailureScope.Request, failure.Scope);
    }
}
