using System.Net;
using System.Net.Sockets;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Tests.Sdk.OAuth;

public sealed class AuthorizationCodeFlowTests
{
    private static readonly HttpClient Http = new();

    private static AuthorizationRequest Request(string path = "/callback") => new()
    {
        AuthorizeUrl = "https://auth.example.test/oauth/authorize",
        ClientId = "client-1",
        Scope = "openid offline_access",
        DisplayName = "Example",
        CallbackPath = path,
        ExtraParameters = [new("prompt", "login")],
    };

    private static LoginContext Context(FakeBrowser browser, StringWriter output, Func<CancellationToken, Task<string?>>? readLine = null,
        TimeSpan? pasteAfter = null, TimeSpan? timeout = null, int port = 0) => new()
        {
            Http = Http,
            Output = output,
            OpenBrowser = browser.Open,
            ReadLine = readLine,
            CallbackPort = port,
            PasteAfter = pasteAfter ?? TimeSpan.FromMinutes(10),
            Timeout = timeout ?? TimeSpan.FromMinutes(10),
        };

    /// <summary>What a plugin's login does: the browser step, then the exchange.</summary>
    private static async Task<(AuthorizationCode Code, TokenResponse Tokens)> LoginAsync(LoginContext context, AuthorizationRequest request, FakeTokenEndpoint tokens)
    {
        var code = await AuthorizationCodeFlow.RunAsync(context, request, CancellationToken.None);
        var client = new OAuthTokenClient(tokens.Url(), request.ClientId);
        return (code, await client.ExchangeCodeAsync(context.Http, code));
    }

    [Theory]
    [InlineData("/callback")]
    [InlineData("/oauth2callback")]
    [InlineData("/auth/callback")]
    public async Task Callback_with_the_right_state_yields_the_code_and_a_success_page(string path)
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens());
        var browser = new FakeBrowser();
        var output = new StringWriter();
        var login = LoginAsync(Context(browser, output), Request(path), tokens);

        using var page = await browser.RedirectAsync(url => $"code=the-code&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}");
        var (code, result) = await login;

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Login successful", await page.Content.ReadAsStringAsync());
        Assert.Equal("the-code", code.Code);
        Assert.Equal("at-1", result.AccessToken);

        // The authorize URL carried everything, and the verifier returned matches its challenge.
        var url = await browser.Opened;
        Assert.StartsWith("https://auth.example.test/oauth/authorize?", url.ToString());
        Assert.Equal("code", FakeBrowser.Param(url, "response_type"));
        Assert.Equal("client-1", FakeBrowser.Param(url, "client_id"));
        Assert.Equal("openid offline_access", FakeBrowser.Param(url, "scope"));
        Assert.Equal("S256", FakeBrowser.Param(url, "code_challenge_method"));
        Assert.Equal("login", FakeBrowser.Param(url, "prompt"));
        Assert.Equal(Pkce.ChallengeFor(code.CodeVerifier!), FakeBrowser.Param(url, "code_challenge"));
        Assert.Equal(code.RedirectUri, FakeBrowser.Param(url, "redirect_uri"));
        Assert.EndsWith(path, code.RedirectUri);
        Assert.Equal(code.State, FakeBrowser.Param(url, "state"));

        // The exchange repeated code, redirect URI and verifier; the output showed the URL but no token.
        var form = FakeTokenEndpoint.Form(Assert.Single(tokens.Requests));
        Assert.Equal("authorization_code", form["grant_type"]);
        Assert.Equal("the-code", form["code"]);
        Assert.Equal(code.RedirectUri, form["redirect_uri"]);
        Assert.Equal(code.CodeVerifier, form["code_verifier"]);
        Assert.Contains(url.GetLeftPart(UriPartial.Path), output.ToString());
        Assert.DoesNotContain("at-1", output.ToString());
        Assert.DoesNotContain("paste", output.ToString(), StringComparison.OrdinalIgnoreCase); // the callback came before PasteAfter
    }

    [Fact]
    public async Task Callback_with_a_wrong_state_is_refused_and_never_reaches_the_token_endpoint()
    {
        await using var tokens = (await FakeTokenEndpoint.StartAsync()).Enqueue(FakeTokenEndpoint.Tokens());
        var browser = new FakeBrowser();
        var login = LoginAsync(Context(browser, new StringWriter()), Request(), tokens);

        using var page = await browser.RedirectAsync(_ => "code=stolen-code&state=forged");

        var error = await Assert.ThrowsAsync<OAuthException>(() => login);
        Assert.Contains("state mismatch", error.Message);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("Login failed", await page.Content.ReadAsStringAsync());
        Assert.Empty(tokens.Requests);
    }

    [Fact]
    public async Task Denied_consent_fails_clearly()
    {
        var browser = new FakeBrowser();
        var login = AuthorizationCodeFlow.RunAsync(Context(browser, new StringWriter()), Request(), CancellationToken.None);

        using var page = await browser.RedirectAsync(url => $"error=access_denied&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}");

        var error = await Assert.ThrowsAsync<OAuthException>(() => login);
        Assert.Equal("access_denied", error.Error);
        Assert.Contains("denied", error.Message);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
    }

    [Fact]
    public async Task Other_paths_are_answered_404_and_the_login_keeps_waiting()
    {
        var browser = new FakeBrowser();
        var login = AuthorizationCodeFlow.RunAsync(Context(browser, new StringWriter()), Request(), CancellationToken.None);
        var redirect = new Uri(FakeBrowser.Param(await browser.Opened, "redirect_uri"));
        using var http = new HttpClient();

        using var favicon = await http.GetAsync($"http://127.0.0.1:{redirect.Port}/favicon.ico");
        Assert.Equal(HttpStatusCode.NotFound, favicon.StatusCode);
        Assert.False(login.IsCompleted);

        using var page = await browser.RedirectAsync(url => $"code=c2&state={Uri.EscapeDataString(FakeBrowser.Param(url, "state"))}");
        Assert.Equal("c2", (await login).Code);
    }

    [Fact]
    public async Task A_busy_port_fails_with_the_way_out()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<OAuthException>(() =>
            AuthorizationCodeFlow.RunAsync(Context(new FakeBrowser(), new StringWriter(), port: port), Request(), CancellationToken.None));

        Assert.Equal($"port {port} is in use; pass --callback-port with a free port", error.Message);
    }

    [Theory]
    [InlineData("url")]
    [InlineData("query")]
    [InlineData("code#state")]
    public async Task After_the_wait_a_pasted_redirect_completes_the_login(string form)
    {
        var browser = new FakeBrowser();
        var output = new StringWriter();
        var reads = 0;
        var context = Context(browser, output, pasteAfter: TimeSpan.FromMilliseconds(20), readLine: async ct =>
        {
            var url = await browser.Opened;
            var state = FakeBrowser.Param(url, "state");
            return ++reads switch
            {
                1 => "", // Enter: keep waiting
                2 => "not a url", // asked again
                _ => form switch
                {
                    "url" => $"{FakeBrowser.Param(url, "redirect_uri")}?code=pasted-code&state={Uri.EscapeDataString(state)}",
                    "query" => $"code=pasted-code&state={Uri.EscapeDataString(state)}",
                    _ => $"pasted-code#{state}",
                },
            };
        });

        var code = await AuthorizationCodeFlow.RunAsync(context, Request(), CancellationToken.None);

        Assert.Equal("pasted-code", code.Code);
        Assert.Equal(3, reads);
        Assert.Contains("paste the Example redirect URL", output.ToString());
        Assert.Contains("That is not a redirect URL", output.ToString());
    }

    [Fact]
    public async Task A_pasted_redirect_with_a_wrong_state_is_refused()
    {
        var context = Context(new FakeBrowser(), new StringWriter(), pasteAfter: TimeSpan.Zero, readLine: _ => Task.FromResult<string?>("code=c&state=forged"));
        var error = await Assert.ThrowsAsync<OAuthException>(() => AuthorizationCodeFlow.RunAsync(context, Request(), CancellationToken.None));
        Assert.Contains("state mismatch", error.Message);
    }

    [Fact]
    public async Task No_callback_and_no_paste_times_out()
    {
        // No terminal (ReadLine returns null): only the callback could answer, and none comes.
        var context = Context(new FakeBrowser(), new StringWriter(), pasteAfter: TimeSpan.Zero, timeout: TimeSpan.FromMilliseconds(200),
            readLine: _ => Task.FromResult<string?>(null));
        var error = await Assert.ThrowsAsync<OAuthException>(() => AuthorizationCodeFlow.RunAsync(context, Request(), CancellationToken.None));
        Assert.Contains("no callback from the browser within 200 ms", error.Message);
    }

    [Fact]
    public async Task No_browser_prints_the_url_and_a_tunnel_hint_and_opens_nothing()
    {
        var browser = new FakeBrowser();
        var output = new StringWriter();
        var context = new LoginContext
        {
            Http = Http, Output = output, OpenBrowser = browser.Open, NoBrowser = true, CallbackPort = 0,
            PasteAfter = TimeSpan.Zero, ReadLine = _ => Task.FromResult<string?>(null), Timeout = TimeSpan.FromMilliseconds(100),
        };
        await Assert.ThrowsAsync<OAuthException>(() => AuthorizationCodeFlow.RunAsync(context, Request(), CancellationToken.None));
        Assert.False(browser.Opened.IsCompleted);
        Assert.Contains("https://auth.example.test/oauth/authorize?", output.ToString());
        Assert.Contains("ssh -L", output.ToString());
    }

    [Fact]
    public void A_fixed_redirect_uri_and_provider_parameter_names_shape_the_url()
    {
        var request = new AuthorizationRequest
        {
            AuthorizeUrl = "https://iflow.example/oauth?loginMethod=phone",
            ClientId = "c",
            RedirectParameterName = "redirect",
            ResponseType = null,
            UsePkce = false,
        };
        var url = AuthorizationCodeFlow.BuildAuthorizeUrl(request, "http://localhost:11451/oauth2callback", "s t", null);
        Assert.Equal("https://iflow.example/oauth?loginMethod=phone&client_id=c&redirect=http%3A%2F%2Flocalhost%3A11451%2Foauth2callback&state=s%20t", url);
    }
}
