using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Host.Credentials;

/// <summary>Reads a CLIProxyAPI-compatible credential file: a JSON object whose <c>"type"</c> selects the provider.</summary>
internal static partial class AuthFileParser
{
    /// <summary>The record for a file, or null when the bytes are not (yet) a JSON object with a non-empty <c>type</c>.</summary>
    public static CredentialRecord? Parse(string path, string authDir, ReadOnlySpan<byte> bytes)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray());
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object) return null;
        var type = String(root, "type")?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(type)) return null;
        // CLIProxyAPI stores Gemini CLI logins as type "gemini"; the provider that serves them is gemini-cli.
        var provider = type == "gemini" ? "gemini-cli" : type;
        var id = Path.GetRelativePath(authDir, path);
        var email = String(root, "email");
        return new CredentialRecord
        {
            Id = id,
            Type = provider,
            Provider = provider,
            Label = !string.IsNullOrWhiteSpace(email) ? email : String(root, "label") ?? id,
            Source = CredentialSource.File,
            Prefix = NormalizePrefix(String(root, "prefix")),
            ProxyUrl = NullIfBlank(String(root, "proxy_url")),
            Disabled = Bool(root, "disabled") ?? false,
            DisableCooling = Bool(root, "disable_cooling") ?? Bool(root, "disable-cooling"),
            RequestRetry = Int(root, "request_retry") ?? Int(root, "request-retry"),
            // weighted-round-robin share; 0 (or negative) keeps the file out of that strategy, as in CLIProxyAPI.
            Weight = Math.Clamp(Int(root, "weight") ?? 1, 0, PluginProxy.Host.Config.ConfigLoader.MaxWeight),
            ApiKey = NullIfBlank(String(root, "api_key")),
            BaseUrl = NullIfBlank(String(root, "base_url")),
            ExpiresAt = ExpiryOf(root),
            Metadata = root,
            FilePath = path,
        };
    }

    /// <summary>
    /// A Gemini CLI file that lists several Cloud projects (<c>"project_id": "a,b"</c>, as a multi-project login writes it)
    /// serves each project as its own schedulable account: one record per project, id <c>file.json#project</c>, whose
    /// metadata names that project only. They share the file, so its token and its refresh (refreshes are single-flight
    /// per file, and a refresh's write keeps the file's project list because the project field is not what it changed).
    /// </summary>
    public static IEnumerable<CredentialRecord> ExpandProjects(CredentialRecord record)
    {
        if (record.Type != "gemini-cli" || record.Metadata.ValueKind != JsonValueKind.Object
            || String(record.Metadata, "project_id") is not { } list || !list.Contains(','))
            return [record];
        var projects = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (projects.Length < 2) return [record];
        return projects.Select(project =>
        {
            var json = System.Text.Json.Nodes.JsonObject.Create(record.Metadata)!.DeepClone().AsObject();
            json["project_id"] = project;
            return record with
            {
                Id = $"{record.Id}#{project}",
                Label = $"{record.Label} ({project})",
                Metadata = JsonSerializer.SerializeToElement(json, PluginProxy.Host.Config.JsonNodeContext.Default.JsonNode),
            };
        });
    }

    /// <summary>Trims a model prefix and its slashes; a prefix with an inner slash is invalid and dropped (as CLIProxyAPI does).</summary>
    public static string? NormalizePrefix(string? prefix)
    {
        var p = prefix?.Trim().Trim('/');
        return string.IsNullOrEmpty(p) || p.Contains('/') ? null : p;
    }

    /// <summary>
    /// When the access token expires: CLIProxyAPI's <c>expired</c> (RFC 3339, or Unix seconds or milliseconds), else
    /// Gemini's <c>expiry_date</c> (ms), else the nested Go oauth2 <c>token.expiry</c>, else <c>expires_at</c>.
    /// </summary>
    public static DateTimeOffset? ExpiryOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        return Time(root, "expired")
            ?? Time(root, "expiry_date")
            ?? (root.TryGetProperty("token", out var token) && token.ValueKind == JsonValueKind.Object ? Time(token, "expiry") : null)
            ?? Time(root, "expires_at");
    }

    // Below 1e11 a Unix number is seconds (1e11 s is the year 5138); above, milliseconds (1e11 ms is 1973).
    private const double MillisecondsThreshold = 1e11;

    private static DateTimeOffset? Time(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v)) return null;
        double? unix = v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDouble(out var n) => n,
            JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
        if (unix is { } u)
        {
            if (u <= 0 || double.IsNaN(u) || double.IsInfinity(u)) return null;
            var ms = u >= MillisecondsThreshold ? u : u * 1000;
            return ms > 253402300799999 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
        }
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString())) return null;
        // Go writes up to nine fractional digits (RFC3339Nano); .NET parses seven.
        var text = LongFraction().Replace(v.GetString()!.Trim(), "$1");
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return null;
        // Go's zero time (0001-01-01) means "unknown".
        return at.Year <= 1 ? null : at;
    }

    [GeneratedRegex(@"(\.\d{7})\d+")]
    private static partial Regex LongFraction();

    private static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // Per-file overrides are written by hand as bools, strings or numbers.
    private static bool? Bool(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(v.GetString(), out var b) => b,
            JsonValueKind.String => v.GetString() == "1",
            JsonValueKind.Number => v.TryGetInt32(out var n) && n != 0,
            _ => null,
        };
    }

    private static int? Int(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt32(out var n) => n,
            JsonValueKind.String when int.TryParse(v.GetString(), out var n) => n,
            _ => null,
        };
    }
}
