using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>Google Search grounding from non-Gemini clients; quota cooldowns; token refresh.</summary>
public sealed class GeminiGroundingAndFailureTests
{
    private const string Grounding = """{"webSearchQueries":["weather paris"],"groundingChunks":[{"web":{"uri":"https://example.com/w","title":"example.com"}}],"groundingSupports":[{"segment":{"startIndex":0,"endIndex":15,"text":"Paris is sunny."},"groundingChunkIndices":[0]}]}""";
    private const string Grounded = $$$"""{"candidates":[{"content":{"role":"model","parts":[{"text":"Paris is sunny."}]},"finishReason":"STOP","index":0,"groundingMetadata":{{{Grounding}}}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":4,"totalTokenCount":9}}""";
    private const string Text = """{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}]}""";

    public static TheoryData<ClientKind, AccountKind, bool> GroundingCases()
    {
        var data = new TheoryData<ClientKind, AccountKind, bool>();
        foreach (var client in new[] { ClientKind.OpenAIChat, ClientKind.Anthropic, ClientKind.Responses })
            foreach (var account in Enum.GetValues<AccountKind>())
                foreach (var stream in new[] { false, true })
                    data.Add(client, account, stream);
        return data;
    }

    [Theory]
    [MemberData(nameof(GroundingCases))]
    public async Task Google_search_reaches_gemini_as_its_tool_and_grounding_comes_back_in_the_dialects_place(ClientKind client, AccountKind account, bool stream)
    {
        await using var proxy = await GeminiProxy.StartAsync(account);
        proxy.Enqueue(stream ? GeminiReply.Stream(Grounded) : GeminiReply.Json(Grounded));
        var s = stream ? "true" : "false";
        var (path, request) = client switch
        {
            ClientKind.OpenAIChat => ("/v1/chat/completions", $$$"""{"model":"gemini-2.5-pro","stream":{{{s}}},"messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"google_search":{}}]}"""),
            ClientKind.Anthropic => ("/v1/messages", $$$"""{"model":"gemini-2.5-pro","stream":{{{s}}},"max_tokens":256,"messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"google_search","name":"google_search"}]}"""),
            _ => ("/v1/responses", $$$"""{"model":"gemini-2.5-pro","stream":{{{s}}},"input":"Weather in Paris?","tools":[{"type":"google_search"}]}"""),
        };

        var (status, body, _) = await proxy.PostAsync(path, request);

        Assert.True(status == 200, body);
        var tools = proxy.GeminiBody(Assert.Single(proxy.Requests))["tools"]!.AsArray();
        JsonAssert.Equal("""[{"googleSearch":{}}]""", tools);
        JsonNode grounding;
        if (!stream)
        {
            var answer = JsonNode.Parse(body)!;
            grounding = client == ClientKind.OpenAIChat ? answer["choices"]![0]!["grounding_metadata"]! : answer["grounding_metadata"]!;
        }
        else
        {
            var events = body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]")
                .Select(l => JsonNode.Parse(l[6..])!).ToList();
            grounding = client switch
            {
                ClientKind.OpenAIChat => events.Select(e => e["choices"]?.AsArray().FirstOrDefault()?["grounding_metadata"]).Single(g => g is not null)!,
                ClientKind.Anthropic => events.Single(e => (string?)e["type"] == "message_delta")["grounding_metadata"]!,
                _ => events.Single(e => (string?)e["type"] == "response.completed")["response"]!["grounding_metadata"]!,
            };
        }
        JsonAssert.Equal(Grounding, grounding);
    }

    [Fact]
    public async Task Quota_429_with_retry_info_cools_that_account_and_model_for_the_delay()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey, twoApiKeys: true, clock: clock);
        const string quota = """{"error":{"code":429,"message":"Resource has been exhausted.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}""";
        var keyOneQuota = true;
        proxy.Responder = r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne && keyOneQuota && r.Path.Contains("gemini-2.5-pro")
            ? GeminiReply.Error(429, quota)
            : GeminiReply.Json(Text);
        const string chat = """{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}]}""";

        // Two requests: whichever key comes first, key one answers 429 once and key two serves.
        for (var i = 0; i < 2; i++)
        {
            var (status, body, _) = await proxy.PostAsync("/v1/chat/completions", chat);
            Assert.True(status == 200, body);
        }
        Assert.Single(proxy.Requests, r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne);
        var before = proxy.Requests.Count;

        // While it cools, every request for that model goes to key two...
        for (var i = 0; i < 3; i++) await proxy.PostAsync("/v1/chat/completions", chat);
        Assert.All(proxy.Requests.Skip(before), r => Assert.Equal(GeminiProxy.ApiKeyTwo, r.Header("x-goog-api-key")));
        // ...but key one still serves another model.
        var served = proxy.Requests.Count;
        for (var i = 0; i < 2; i++) await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Contains(proxy.Requests.Skip(served), r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne);

        // After the given delay it is back in rotation.
        keyOneQuota = false;
        clock.Advance(TimeSpan.FromSeconds(38));
        var after = proxy.Requests.Count;
        for (var i = 0; i < 2; i++) await proxy.PostAsync("/v1/chat/completions", chat);
        Assert.Contains(proxy.Requests.Skip(after), r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne && r.Path.Contains("gemini-2.5-pro"));
    }

    [Theory]
    [InlineData("""{"error":{"code":403,"message":"Verify your account to continue.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"VALIDATION_REQUIRED"}]}}""", "VALIDATION_REQUIRED")]
    [InlineData("""{"error":{"code":403,"message":"This client is not supported for your account tier.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"UNSUPPORTED_CLIENT"}]}}""", "not eligible for Gemini CLI")]
    public async Task Account_level_refusals_take_the_whole_account_out_with_a_clear_reason(string error, string reason)
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli);
        proxy.Responder = r => r.Json?["model"]?.ToString() == "gemini-2.5-pro" ? GeminiReply.Error(403, error) : GeminiReply.Json(Text);

        var (status, body, _) = await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(403, status);
        Assert.Contains(reason, body);
        var count = proxy.Requests.Count;

        // Credential scope: another model on the same account is not tried either.
        (status, body, _) = await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");
        Assert.NotEqual(200, status);
        Assert.Equal(count, proxy.Requests.Count);
    }

    [Fact]
    public async Task An_invalid_api_key_is_taken_out_and_the_other_key_serves()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey, twoApiKeys: true);
        proxy.Responder = r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne
            ? GeminiReply.Error(400, """{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}""")
            : GeminiReply.Json(Text);

        for (var i = 0; i < 3; i++)
        {
            var (status, _, _) = await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(200, status);
        }
        Assert.Single(proxy.Requests, r => r.Header("x-goog-api-key") == GeminiProxy.ApiKeyOne); // asked once, then cooled
    }

    [Fact]
    public async Task A_failed_passthrough_token_count_cools_nothing()
    {
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        proxy.Responder = r => r.Path.EndsWith(":countTokens", StringComparison.Ordinal)
            ? GeminiReply.Error(503, """{"error":{"code":503,"message":"count is down","status":"UNAVAILABLE"}}""")
            : GeminiReply.Json(Text);

        var (count, _, _) = await proxy.PostAsync("/v1beta/models/gemini-2.5-pro:countTokens", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""");
        Assert.Equal(503, count);
        var (status, _, _) = await proxy.PostAsync("/v1beta/models/gemini-2.5-pro:generateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""");
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_multi_project_file_serves_each_project_as_its_own_account_sharing_one_token()
    {
        var authFile = GeminiProxy.CliAuthFile(DateTimeOffset.UtcNow.AddMinutes(2), project: "proj-alpha,proj-beta"); // due for refresh at once
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli, authFile: authFile,
            tokenEndpoint: _ => FakeReply.Json(JsonNode.Parse("""{"access_token":"ya29.shared","expires_in":3599,"token_type":"Bearer"}""")!));
        var file = Path.Combine(proxy.Server.AuthDir, "gemini-a@example.com-proj-alpha.json");
        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(file)).Contains("ya29.shared"), "the shared token is refreshed");
        proxy.Responder = _ => GeminiReply.Json(Text);

        for (var i = 0; i < 4; i++)
        {
            var (status, _, _) = await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(200, status);
        }

        // Round-robin over the two projects, both with the one refreshed token; the file keeps both projects.
        var generated = proxy.Requests.Where(r => r.Json?["project"] is not null).ToList();
        Assert.Equal(["proj-alpha", "proj-alpha", "proj-beta", "proj-beta"], generated.Select(r => (string)r.Json!["project"]!).Order());
        Assert.All(generated, r => Assert.Equal("Bearer ya29.shared", r.Header("Authorization")));
        Assert.Single(proxy.Upstream.Requests, r => r.Path == "/token"); // one refresh for the file, not one per project
        Assert.Equal("proj-alpha,proj-beta", (string?)JsonNode.Parse(await File.ReadAllTextAsync(file))!["project_id"]);
    }

    [Fact]
    public async Task Expiring_token_is_refreshed_at_the_token_endpoint_and_persisted_in_the_file_shape()
    {
        var authFile = GeminiProxy.CliAuthFile(DateTimeOffset.UtcNow.AddMinutes(2)); // inside the 5-minute lead
        // As the Gemini CLI writes its own files: a top-level expiry_date (ms), which the host reads first.
        authFile["expiry_date"] = DateTimeOffset.UtcNow.AddMinutes(2).ToUnixTimeMilliseconds();
        // Scripted before the server starts: the background refresh may run at once.
        await using var proxy = await GeminiProxy.StartAsync(AccountKind.GeminiCli, authFile: authFile,
            tokenEndpoint: _ => FakeReply.Json(JsonNode.Parse("""{"access_token":"ya29.refreshed","expires_in":3599,"token_type":"Bearer","scope":"x"}""")!));
        var file = Path.Combine(proxy.Server.AuthDir, "gemini-a@example.com-proj-alpha.json");

        await TestServer.EventuallyAsync(async () => (await File.ReadAllTextAsync(file)).Contains("ya29.refreshed"), "the refreshed token is written");

        var tokenCall = proxy.Upstream.Requests.First(r => r.Path == "/token");
        var form = System.Web.HttpUtility.ParseQueryString(tokenCall.BodyText);
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal(GeminiProxy.RefreshToken, form["refresh_token"]);
        Assert.Equal("681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com", form["client_id"]);
        Assert.False(string.IsNullOrEmpty(form["client_secret"]));
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
        Assert.Equal("ya29.refreshed", (string?)saved["token"]!["access_token"]);
        Assert.Equal(GeminiProxy.RefreshToken, (string?)saved["token"]!["refresh_token"]); // kept when Google sends none
        Assert.Equal("Bearer", (string?)saved["token"]!["token_type"]);
        Assert.True(DateTimeOffset.Parse((string)saved["token"]!["expiry"]!) > DateTimeOffset.UtcNow.AddMinutes(50));
        // Kept current too, or the host would see the old expiry and refresh again every minute.
        Assert.True(DateTimeOffset.FromUnixTimeMilliseconds((long)saved["expiry_date"]!) > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Equal(GeminiProxy.Project, (string?)saved["project_id"]);
        Assert.Equal("gemini", (string?)saved["type"]);

        // The next request uses the new token.
        proxy.Enqueue(GeminiReply.Json(Text));
        await TestServer.EventuallyAsync(async () =>
        {
            var (status, _, _) = await proxy.PostAsync("/v1/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");
            return status == 200 || proxy.Requests.Count > 0;
        }, "a request is served");
        Assert.Equal("Bearer ya29.refreshed", proxy.Requests[^1].Header("authorization"));
    }
}
