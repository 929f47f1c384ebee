using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Sdk.OAuth;

/// <summary>A PKCE pair (RFC 7636, method S256). <see cref="ToString"/> never prints the verifier.</summary>
/// <param name="Verifier">43–128 characters of base64url (a subset of the unreserved set); sent with the token exchange.</param>
/// <param name="Challenge">base64url(SHA-256(verifier)) without padding; sent with the authorize URL.</param>
public sealed record PkcePair(string Verifier, string Challenge)
{
    public const string Method = "S256";

    public override string ToString() => $"PkcePair(S256, challenge {Challenge})";
}

/// <summary>Random values for an authorization request: PKCE pairs and <c>state</c>.</summary>
public static class Pkce
{
    /// <summary>Creates a pair whose verifier encodes <paramref name="verifierBytes"/> random bytes.</summary>
    /// <param name="verifierBytes">32 gives the RFC's minimum of 43 characters; 96 gives 128 (Claude, Codex).</param>
    public static PkcePair Create(int verifierBytes = 32)
    {
        // 32..96 bytes are exactly the lengths whose base64url text stays within RFC 7636's 43..128 characters.
        ArgumentOutOfRangeException.ThrowIfLessThan(verifierBytes, 32);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(verifierBytes, 96);
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(verifierBytes));
        return new PkcePair(verifier, ChallengeFor(verifier));
    }

    /// <summary>The S256 challenge for a verifier.</summary>
    public static string ChallengeFor(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>An unguessable <c>state</c> value (32 random bytes, base64url).</summary>
    public static string CreateState() => Base64Url(RandomNumberGenerator.GetBytes(32));

    internal static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
