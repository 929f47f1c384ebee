using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Plugins.Gemini.Vertex;

/// <summary>
/// A Google service account as a Vertex credential file holds it (CLIProxyAPI's shape: <c>service_account</c> with the
/// key JSON, plus <c>project_id</c> and <c>location</c>; the key's fields at the top level are read too).
/// </summary>
internal sealed record ServiceAccount(string ClientEmail, string PrivateKeyPem, string ProjectId, string Location)
{
    public const string Scope = "https://www.googleapis.com/auth/cloud-platform";
    public const string DefaultLocation = "us-central1";

    /// <summary>Reads the account of a credential; null when the file lacks the email, key or project.</summary>
    public static ServiceAccount? From(CredentialRecord credential)
    {
        if (credential.Metadata.ValueKind != JsonValueKind.Object) return null;
        var file = credential.Metadata;
        var key = file.TryGetProperty("service_account", out var sa) && sa.ValueKind == JsonValueKind.Object ? sa : file;
        var email = Text(key, "client_email") ?? Text(file, "email");
        var pem = Text(key, "private_key");
        var project = Text(file, "project_id") ?? Text(key, "project_id");
        if (email is null || pem is null || project is null) return null;
        return new ServiceAccount(email, NormalizePem(pem), project, Text(file, "location") ?? DefaultLocation);
    }

    /// <summary>CRLF and escaped newlines (pasted keys) become plain LF, which ImportFromPem reads.</summary>
    public static string NormalizePem(string pem) => pem.Replace("\\n", "\n").Replace("\r\n", "\n").Trim();

    /// <summary>Whether the PEM holds an RSA private key (PKCS#1 or PKCS#8).</summary>
    public static bool IsRsaKey(string pem)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(NormalizePem(pem));
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Identifies the key without revealing it: a cache key that changes when the file's key changes.</summary>
    public string Fingerprint()
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(ClientEmail + "\n" + PrivateKeyPem));
        return Convert.ToHexString(hash, 0, 12);
    }

    /// <summary>The RS256-signed assertion of the JWT-bearer grant (RFC 7523), valid for an hour.</summary>
    public string SignedAssertion(string audience, DateTimeOffset now)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" };
        var claims = new JsonObject
        {
            ["iss"] = ClientEmail,
            ["scope"] = Scope,
            ["aud"] = audience,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        using var rsa = RSA.Create();
        rsa.ImportFromPem(PrivateKeyPem);
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null;

    // Declared so the record never prints its key.
    public override string ToString() => $"{ClientEmail} ({ProjectId}, {Location})";
}
