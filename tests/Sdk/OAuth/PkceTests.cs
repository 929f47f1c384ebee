using System.Security.Cryptography;
using System.Text;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Tests.Sdk.OAuth;

public sealed class PkceTests
{
    [Theory]
    [InlineData(32, 43)]
    [InlineData(96, 128)]
    public void Verifier_is_unreserved_text_of_rfc_length_and_challenge_is_its_s256(int bytes, int length)
    {
        var pair = Pkce.Create(bytes);
        Assert.Equal(length, pair.Verifier.Length);
        Assert.All(pair.Verifier, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~', $"'{c}' is not unreserved"));
        var expected = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(pair.Verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, pair.Challenge);
        Assert.DoesNotContain('=', pair.Challenge);
        Assert.DoesNotContain(pair.Verifier, pair.ToString());
    }

    [Fact]
    public void Rfc7636_appendix_b_example()
    {
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Pkce.ChallengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    }

    [Fact]
    public void Every_pair_and_state_is_fresh()
    {
        Assert.NotEqual(Pkce.Create().Verifier, Pkce.Create().Verifier);
        Assert.NotEqual(Pkce.CreateState(), Pkce.CreateState());
        Assert.True(Pkce.CreateState().Length >= 32);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(97)]
    public void Lengths_outside_the_rfc_range_are_refused(int bytes) => Assert.Throws<ArgumentOutOfRangeException>(() => Pkce.Create(bytes));
}
