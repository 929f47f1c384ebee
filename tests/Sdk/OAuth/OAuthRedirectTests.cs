using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Tests.Sdk.OAuth;

public sealed class OAuthRedirectTests
{
    [Theory]
    [InlineData("http://localhost:54545/callback?code=abc&state=xyz")]
    [InlineData("  https://console.example/oauth/code/callback?state=xyz&code=abc  ")]
    [InlineData("http://localhost:1455/auth/callback#code=abc&state=xyz")]
    [InlineData("code=abc&state=xyz")]
    [InlineData("?code=abc&state=xyz")]
    [InlineData("abc#xyz")]
    [InlineData("code=abc%23xyz")]
    public void Pasted_forms_yield_code_and_state(string pasted)
    {
        Assert.True(OAuthRedirect.TryParse(pasted, out var redirect));
        Assert.Equal("abc", redirect.Code);
        Assert.Equal("xyz", redirect.State);
        Assert.Equal("abc", redirect.CodeFor("xyz"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("http://localhost/callback?foo=bar")]
    public void Text_without_code_or_error_is_not_a_redirect(string pasted) => Assert.False(OAuthRedirect.TryParse(pasted, out _));

    [Fact]
    public void A_wrong_or_missing_state_never_yields_the_code()
    {
        var wrong = Assert.Throws<OAuthException>(() => OAuthRedirect.FromQuery("code=secret-code-1&state=evil").CodeFor("good"));
        Assert.Contains("state mismatch", wrong.Message);
        Assert.DoesNotContain("secret-code-1", wrong.Message);
        Assert.Contains("no state", Assert.Throws<OAuthException>(() => OAuthRedirect.FromQuery("code=c").CodeFor("good")).Message);
    }

    [Fact]
    public void Errors_say_what_the_provider_said()
    {
        var denied = Assert.Throws<OAuthException>(() => OAuthRedirect.FromQuery("error=access_denied&error_description=User+said+no&state=s").CodeFor("s"));
        Assert.Equal("access_denied", denied.Error);
        Assert.Contains("consent was denied", denied.Message);
        Assert.Contains("User said no", denied.Message);
        Assert.Contains("invalid_scope", Assert.Throws<OAuthException>(() => OAuthRedirect.FromQuery("error=invalid_scope").CodeFor("s")).Message);
    }

    [Fact]
    public void ToString_hides_the_code() => Assert.DoesNotContain("abc", OAuthRedirect.FromQuery("code=abc&state=xyz").ToString());
}
