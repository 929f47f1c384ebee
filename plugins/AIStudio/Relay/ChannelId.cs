using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// Channel ids, <c>aistudio-</c> and 16 of <c>[a-z0-9]</c>: random for each connection, as in CLIProxyAPI. A relay client
/// that wants to keep its account across reconnects may ask for one with <c>?id=</c> (CLIProxyAPI has no such parameter:
/// its ids come from a server-side hook only); a second connection with the same id replaces the first.
/// </summary>
internal static partial class ChannelId
{
    public const string Prefix = "aistudio-";
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewId() => Prefix + RandomNumberGenerator.GetString(Alphabet, 16);

    /// <summary>The id a client asked for (<c>?id=</c>, with or without the prefix), normalised; null when it asked for none.</summary>
    /// <exception cref="FormatException">The requested id is not 16 letters or digits.</exception>
    public static string? Requested(IReadOnlyDictionary<string, string> query)
    {
        if (!query.TryGetValue("id", out var raw) || string.IsNullOrWhiteSpace(raw)) return null;
        var id = raw.Trim().ToLowerInvariant();
        if (id.StartsWith(Prefix, StringComparison.Ordinal)) id = id[Prefix.Length..];
        return Shape().IsMatch(id) ? Prefix + id : throw new FormatException("id must be 16 letters or digits, optionally prefixed with 'aistudio-'");
    }

    [GeneratedRegex("^[a-z0-9]{16}$")]
    private static partial Regex Shape();
}
