using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Management;

/// <summary>
/// <c>remote-management.secret-key</c>: stored as a bcrypt hash. A plaintext key found in the file is replaced by its
/// hash (at startup, and when a hand edit brings one in), written back with the comment-preserving editor.
/// </summary>
internal static class ManagementSecret
{
    public static readonly string[] Path = ["remote-management", "secret-key"];

    private const int WorkFactor = 10;

    // The last key that matched a hash, as a SHA-256, so each request does not pay bcrypt's cost again.
    private sealed record Verified(string Hash, byte[] Digest);

    private static Verified? _verified;

    public static bool IsHash(string? value) =>
        value is { Length: 60 } && (value.StartsWith("$2a$", StringComparison.Ordinal) || value.StartsWith("$2b$", StringComparison.Ordinal) || value.StartsWith("$2y$", StringComparison.Ordinal));

    /// <summary>bcrypt reads only a key's first 72 bytes; longer keys are refused (management stays off) rather than truncated.</summary>
    public const int MaxKeyBytes = 72;

    /// <summary>True for a plaintext key bcrypt could not hash whole (longer than <see cref="MaxKeyBytes"/> UTF-8 bytes).</summary>
    public static bool TooLong(string? plaintext) => plaintext is not null && !IsHash(plaintext) && Encoding.UTF8.GetByteCount(plaintext) > MaxKeyBytes;

    public static string Hash(string plaintext) => BCrypt.Net.BCrypt.HashPassword(plaintext, WorkFactor);

    /// <summary>
    /// Decides without bcrypt when it can: true/false for a plaintext stored key, true for the key last verified
    /// against this hash; null when only bcrypt can tell.
    /// </summary>
    public static bool? VerifyCheap(string presented, string stored)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (!IsHash(stored)) return CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(stored)));
        if (Volatile.Read(ref _verified) is { } cached && cached.Hash == stored && CryptographicOperations.FixedTimeEquals(cached.Digest, digest)) return true;
        return null;
    }

    /// <summary>True when <paramref name="presented"/> is the key <paramref name="stored"/> (a bcrypt hash, or plaintext not yet hashed).</summary>
    public static bool Verify(string presented, string stored)
    {
        if (VerifyCheap(presented, stored) is { } cheap) return cheap;
        // bcrypt would compare only the first 72 bytes; no key that long is ever hashed, so a longer one is wrong.
        if (Encoding.UTF8.GetByteCount(presented) > MaxKeyBytes) return false;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        bool ok;
        try
        {
            ok = BCrypt.Net.BCrypt.Verify(presented, stored);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            ok = false;
        }
        if (ok) Volatile.Write(ref _verified, new Verified(stored, digest));
        return ok;
    }

    /// <summary>
    /// Replaces a plaintext secret in the YAML text by its hash; null when there is nothing to do. The rest of the
    /// file is left as it was.
    /// </summary>
    public static string? HashInText(string yaml)
    {
        YamlEditor editor;
        try
        {
            editor = new YamlEditor(yaml);
            // Any scalar counts, typed or not: `secret-key: 123456` is a key too, and leaving it unhashed would make
            // every reload try again. The raw text is what the loader reads as the key.
            var secret = editor.ScalarText(Path);
            if (string.IsNullOrEmpty(secret) || IsHash(secret) || TooLong(secret)) return null;
            editor.Set(Path, Hash(secret));
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException)
        {
            return null; // a file that does not parse is reported by the loader
        }
        return editor.Text;
    }

    /// <summary>At startup: hashes a plaintext secret in the config file in place (atomically). True when it wrote.</summary>
    public static async Task<bool> HashFileAsync(string configPath, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(configPath)) return false;
        var text = await File.ReadAllTextAsync(configPath, cancellationToken).ConfigureAwait(false);
        if (HashInText(text) is not { } hashed) return false;
        await AtomicFile.WriteAsync(configPath, new UTF8Encoding(false).GetBytes(hashed), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
