using System.Text.Json.Nodes;
using System.Web;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>
/// <c>login gemini</c> against a fake Google on loopback (the test plays the browser): OAuth, userinfo, project choice,
/// Code Assist onboarding and the Cloud AI Companion API check. A failed step returns no credential.
/// </summary>
public sealed class GeminiLoginTests : IAsyncLifetime
{
    private FakeGoogle _google = null!;
    private readonly HttpClient _http = new();
    private readonly AutoAdvanceClock _clock = new();
    private readonly StringWriter _output = new();

    public async Task InitializeAsync() => _google = await FakeGoogle.StartAsync();

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        _http.Dispose();
    }

    /// <summary>Runs the login, consenting in the fake browser; returns the result or the exception the login threw.</summary>
    private async Task<(LoginResult? Result, Exception? Error, Uri Authorize)> LoginAsync(Dictionary<string, string>? options = null, Queue<string?>? typed = null)
    {
        var browser = new FakeBrowser();
        var context = new LoginContext
        {
            Http = _http,
            Output = TextWriter.Synchronized(_output),
            Clock = _clock,
            Settings = _google.Settings(_settingOverride),
            Options = options ?? [],
            OpenBrowser = browser.Open,
            CallbackPort = 0,
            // The clock fires every timer at once, so the browser wait must have none (the onboarding polls use it).
            PasteAfter = Timeout.InfiniteTimeSpan,
            Timeout = Timeout.InfiniteTimeSpan,
            ReadLine = typed is null ? null : _ => Task.FromResult(typed.Count > 0 ? typed.Dequeue() : null),
        };
        var run = GeminiCliPluginUnderTest.Authenticator.LoginAsync(context, CancellationToken.None);
        Uri? authorize = null;
        using (await browser.RedirectAsync(url => { authorize = url; return $"code=google-code-123456&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}"; }))
        {
        }
        try
        {
            return (await run.WaitAsync(TimeSpan.FromSeconds(60)), null, authorize!);
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            return (null, e, authorize!);
        }
    }

    [Fact]
    public async Task One_project_by_project_id_is_onboarded_and_written_in_CLIProxyAPIs_shape()
    {
        var (result, error, authorize) = await LoginAsync(new() { ["project-id"] = "proj-beta" });

        Assert.Null(error);
        var query = HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("https://accounts.fake.test/o/oauth2/auth", authorize.GetLeftPart(UriPartial.Path));
        Assert.Equal("681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com", query["client_id"]);
        Assert.Equal("https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile", query["scope"]);
        Assert.Equal("offline", query["access_type"]);
        Assert.Equal("consent", query["prompt"]);
        Assert.EndsWith("/oauth2callback", query["redirect_uri"]);

        var form = FakeTokenEndpoint.Form(Assert.Single(_google.To("/token")));
        Assert.Equal("authorization_code", form["grant_type"]);
        Assert.Equal("google-code-123456", form["code"]);
        Assert.Equal("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", form["client_secret"]);
        Assert.Equal($"Bearer {FakeGoogle.AccessToken}", Assert.Single(_google.To("/oauth2/v1/userinfo")).Header("authorization"));

        var load = Assert.Single(_google.To(":loadCodeAssist"));
        Assert.Equal("proj-beta", (string?)load.Json!["cloudaicompanionProject"]);
        Assert.Equal("GEMINI", (string?)load.Json!["metadata"]!["pluginType"]);
        Assert.Equal("google-api-nodejs-client/9.15.1", load.Header("user-agent"));
        var onboard = Assert.Single(_google.To(":onboardUser"));
        Assert.Equal("standard-tier", (string?)onboard.Json!["tierId"]);
        Assert.Single(_google.To("/proj-beta/services/cloudaicompanion.googleapis.com"));
        Assert.Empty(_google.To(":enable"));

        Assert.NotNull(result);
        Assert.Equal($"{FakeGoogle.Email}-proj-beta.json", result.FileName);
        var file = result.Content;
        Assert.Equal("gemini", (string?)file["type"]);
        Assert.Equal(FakeGoogle.Email, (string?)file["email"]);
        Assert.Equal("proj-beta", (string?)file["project_id"]);
        Assert.False((bool)file["auto"]!);
        Assert.True((bool)file["checked"]!);
        var token = file["token"]!.AsObject();
        Assert.Equal(FakeGoogle.AccessToken, (string?)token["access_token"]);
        Assert.Equal(FakeGoogle.RefreshToken, (string?)token["refresh_token"]);
        Assert.Equal("Bearer", (string?)token["token_type"]);
        Assert.Equal(_clock.GetUtcNow().AddSeconds(3599), DateTimeOffset.Parse((string)token["expiry"]!));
        Assert.Equal($"{_google.Root}/token", (string?)token["token_uri"]);
        Assert.Equal(3, token["scopes"]!.AsArray().Count);
        Assert.DoesNotContain(FakeGoogle.AccessToken, _output.ToString());
        Assert.Contains(FakeGoogle.Email, _output.ToString());
    }

    [Fact]
    public async Task ALL_onboards_every_listed_project_into_one_file_with_a_comma_joined_project_id()
    {
        _google.Projects = ["proj-alpha", "proj-beta", "proj-gamma"];

        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "ALL" });

        Assert.Null(error);
        Assert.Equal(["proj-alpha", "proj-beta", "proj-gamma"], _google.To(":onboardUser").Select(r => (string?)r.Json!["cloudaicompanionProject"]));
        Assert.Equal(3, _google.To("/services/cloudaicompanion.googleapis.com").Count);
        Assert.Equal($"gemini-{FakeGoogle.Email}-all.json", result!.FileName);
        Assert.Equal("proj-alpha,proj-beta,proj-gamma", (string?)result.Content["project_id"]);
    }

    [Fact]
    public async Task Asked_from_the_numbered_list_when_no_project_id_is_given()
    {
        var (result, error, _) = await LoginAsync(typed: new Queue<string?>(["7", "2"]));

        Assert.Null(error);
        Assert.Contains("  1. proj-alpha (PROJ-ALPHA)", _output.ToString());
        Assert.Contains("'7' is neither a number", _output.ToString());
        Assert.Equal("proj-beta", (string?)result!.Content["project_id"]);
        Assert.False((bool)result.Content["auto"]!);
    }

    [Fact]
    public async Task OnboardUser_is_polled_every_five_seconds_until_done_on_the_third_call()
    {
        _google.OnboardDoneOnCall = 3;

        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "proj-alpha" });

        Assert.Null(error);
        Assert.Equal(3, _google.To(":onboardUser").Count);
        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)], _clock.Waits);
        Assert.Contains("not done yet, checking again in 5 s (check 2)", _output.ToString());
        Assert.Equal("proj-alpha", (string?)result!.Content["project_id"]);
    }

    [Fact]
    public async Task A_project_without_the_Cloud_AI_Companion_API_gets_it_enabled()
    {
        _google.Disabled.Add("proj-alpha");

        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "proj-alpha" });

        Assert.Null(error);
        var enable = Assert.Single(_google.To(":enable"));
        Assert.Equal("POST", enable.Method);
        Assert.Equal("/su/v1/projects/proj-alpha/services/cloudaicompanion.googleapis.com:enable", enable.Path);
        Assert.Equal($"Bearer {FakeGoogle.AccessToken}", enable.Header("authorization"));
        Assert.Contains("Enabled the Cloud AI Companion API on project proj-alpha", _output.ToString());
        Assert.NotNull(result);
    }

    [Fact]
    public async Task A_Service_Usage_check_that_Google_refuses_fails_the_login_naming_the_step()
    {
        await using var refusing = await FakeUpstreamHost.StartAsync((http, request) =>
            FakeReply.Error(403, """{"error":{"code":403,"message":"Permission denied to enable service","status":"PERMISSION_DENIED"}}""").WriteAsync(http, request));
        // Only the service-usage URL (in the plugin's own block, which wins over providers.gemini) points at a fake that refuses.
        var (result, error, _) = await LoginWithSettingAsync("service-usage-url", refusing.Root.GetLeftPart(UriPartial.Authority), new() { ["project-id"] = "proj-alpha" });

        Assert.Null(result);
        Assert.Contains("checking the Cloud AI Companion API", error!.Message);
        Assert.Contains("HTTP 403: PERMISSION_DENIED: Permission denied to enable service", error.Message);
        Assert.Single(_google.To(":onboardUser"));
        Assert.Single(refusing.Requests);
    }

    [Theory]
    [InlineData("answer")]
    [InlineData("error")]
    public async Task An_ineligible_account_is_refused_in_plain_words_naming_the_account_and_nothing_is_returned(string how)
    {
        _google.LoadCodeAssist = _ => how == "answer"
            ? FakeReply.Json(JsonNode.Parse("""
                {"ineligibleTiers":[{"reasonCode":"INELIGIBLE_ACCOUNT","reasonMessage":"Gemini CLI is not available for this account type.","tierId":"free-tier"}]}
                """)!)
            : FakeReply.Error(403, """{"error":{"code":403,"message":"This client is not supported for your account tier.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"UNSUPPORTED_CLIENT"}]}}""");

        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "proj-alpha" });

        Assert.Null(result);
        var message = Assert.IsType<OAuthException>(error).Message;
        Assert.Contains($"Google does not allow Gemini CLI for {FakeGoogle.Email} (proj-alpha)", message);
        Assert.Contains(how == "answer" ? "Gemini CLI is not available for this account type" : "This client is not supported for your account tier", message);
        Assert.Contains("individual, free and Google One accounts", message);
        Assert.Contains("Gemini API key", message);
        Assert.Contains("Code Assist Standard or Enterprise", message);
        Assert.DoesNotContain(FakeGoogle.AccessToken, message);
        Assert.Empty(_google.To(":onboardUser"));
    }

    [Fact]
    public async Task A_failing_userinfo_fails_the_login_naming_the_step_and_goes_no_further()
    {
        _google.UserInfo = FakeReply.Error(500, """{"error":{"code":500,"message":"backend error","status":"INTERNAL"}}""");

        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "proj-alpha" });

        Assert.Null(result);
        Assert.Equal("reading the account's email (userinfo) failed: HTTP 500: INTERNAL: backend error", Assert.IsType<OAuthException>(error).Message);
        Assert.Empty(_google.To("/v1/projects"));
        Assert.Empty(_google.To(":loadCodeAssist"));
    }

    [Fact]
    public async Task An_unknown_project_id_is_refused_before_any_onboarding()
    {
        var (result, error, _) = await LoginAsync(new() { ["project-id"] = "proj-alpha,proj-nope" });

        Assert.Null(result);
        Assert.Contains("proj-nope is not among the account's projects (proj-alpha, proj-beta)", error!.Message);
        Assert.Empty(_google.To(":loadCodeAssist"));
    }

    private async Task<(LoginResult? Result, Exception? Error, Uri Authorize)> LoginWithSettingAsync(string key, string value, Dictionary<string, string> options)
    {
        _settingOverride = (key, value);
        return await LoginAsync(options);
    }

    private (string Key, string Value)? _settingOverride;
}
