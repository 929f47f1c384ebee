using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PluginProxy.Host.Security;

internal enum KeyCheck
{
    Accepted,
    Missing,
    Invalid,
}

/// <summary>
/// Client API keys from <c>api-keys</c>. Accepted as <c>Authorization: Bearer</c>, <c>x-goog-api-key</c>, <c>x-api-key</c>,
/// <c>?key=</c> or <c>?auth_token=</c>, first present wins (CLIProxyAPI's order). Compared in constant time.
/// </summary>
internal static class ClientKeys
{
    /// <summary>The configured keys as bytes, computed once per config snapshot.</summary>
    public static byte[][] Encode(IReadOnlyList<string> keys) => [.. keys.Select(Encoding.UTF8.GetBytes)];

    /// <summary>Checks the key the client presented, which is returned in <paramref name="presented"/> (null when none).</summary>
    public static KeyCheck Check(HttpRequest request, byte[][] keys, out string? presented)
    {
        presented = Presented(request);
        if (presented is null) return KeyCheck.Missing;
        var bytes = Encoding.UTF8.GetBytes(presented);
        var match = false;
        foreach (var key in keys)
            match |= CryptographicOperations.FixedTimeEquals(bytes, key); // no early exit: every key costs the same
        return match ? KeyCheck.Accepted : KeyCheck.Invalid;
    }

    /// <summary>The key the client presented, or null.</summary>
    public static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (!string.IsNullOrWhiteSpace(authorization))
        {
            var space = authorization.IndexOf(' ');
            return space > 0 && authorization[..space].Equals("Bearer", StringComparison.OrdinalIgnoreCase)
                ? authorization[(space + 1)..].Trim()
                : authorization.Trim();
        }
        foreach (var header in (string[])["x-goog-api-key", "x-api-key"])
        {
            var value = request.Headers[header].ToString();
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
        }
        foreach (var name in (string[])["key", "auth_token"])
        {
            var value = request.Query[name].ToString();
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
        }
        return null;
    }
}
