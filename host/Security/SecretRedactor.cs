using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Security;

/// <summary>
/// Knows every secret the server holds (client keys, provider keys, tokens in credential files, proxy passwords)
/// and masks them in text. The log pipeline runs every event through it, as a second line of defence behind
/// never logging secrets in the first place.
/// </summary>
internal sealed partial class SecretRedactor
{
    private const int MinimumLength = 4;
    private const string Mask = "[REDACTED]";

    private volatile Secrets _secrets = new([]);

    private sealed class Secrets(string[] values)
    {
        public readonly string[] Values = values;
        public readonly SearchValues<string> Search = SearchValues.Create(values, StringComparison.Ordinal);
    }

    private readonly Lock _updateGate = new();

    /// <summary>Re-reads every secret from the stores' current values (inside a lock, so racing updates never publish stale sets).</summary>
    public void Update(ConfigStore configStore, CredentialStore credentialStore)
    {
        var current = configStore.Current;
        lock (_updateGate) Update(current.Config, credentialStore.Current, current.Json);
    }

    /// <param name="configJson">The whole config as JSON (<see cref="LoadedConfig.Json"/>), for blocks plugins own (<c>ampcode</c>).</param>
    internal void Update(ProxyConfig config, CredentialSnapshot credentials, JsonElement configJson = default)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in config.ApiKeys) values.Add(key ?? "");
        values.Add(config.RemoteManagement.SecretKey ?? "");
        foreach (var entry in config.GeminiApiKey.Concat(config.ClaudeApiKey).Concat(config.CodexApiKey).Concat(config.VertexApiKey))
        {
            values.Add(entry.ApiKey ?? "");
            AddProxyPassword(values, entry.ProxyUrl);
        }
        foreach (var entry in config.OpenaiCompatibility)
        {
            foreach (var key in entry.ApiKeyEntries)
            {
                values.Add(key.ApiKey ?? "");
                AddProxyPassword(values, key.ProxyUrl);
            }
            foreach (var header in entry.Headers.Values) values.Add(header);
        }
        AddProxyPassword(values, config.ProxyUrl);
        if (configJson.ValueKind == JsonValueKind.Object && configJson.TryGetProperty("ampcode", out var amp)) AddAmpKeys(values, amp);
        foreach (var credential in credentials.All)
        {
            values.Add(credential.ApiKey ?? "");
            AddProxyPassword(values, credential.ProxyUrl);
            foreach (var header in credential.Headers.Values) values.Add(header);
            if (credential.Metadata.ValueKind == JsonValueKind.Object) AddSecretFields(values, credential.Metadata);
        }
        // Longest first, so a secret that contains another is masked whole.
        _secrets = new Secrets([.. values.Select(v => v.Trim()).Where(v => v.Length >= MinimumLength).Distinct().OrderByDescending(v => v.Length)]);
    }

    /// <summary>Changes (by reference) whenever the set of secrets does: a text found clean stays clean until then.</summary>
    public object Version => _secrets;

    /// <summary>True when <paramref name="text"/> contains a known secret.</summary>
    public bool Contains(string? text) => !string.IsNullOrEmpty(text) && text.AsSpan().ContainsAny(_secrets.Search);

    /// <summary>The text with every known secret replaced by a mask.</summary>
    public string Redact(string text)
    {
        var secrets = _secrets;
        var index = text.AsSpan().IndexOfAny(secrets.Search);
        if (index < 0) return text;
        var builder = new StringBuilder(text.Length);
        var position = 0;
        while (index >= 0)
        {
            var start = position + index;
            var secret = secrets.Values.First(s => string.CompareOrdinal(text, start, s, 0, s.Length) == 0);
            builder.Append(text, position, start - position).Append(Mask);
            position = start + secret.Length;
            index = text.AsSpan(position).IndexOfAny(secrets.Search);
        }
        return builder.Append(text, position, text.Length - position).ToString();
    }

    // Token-ish fields of credential files, at any depth (Gemini nests them under "token").
    private static void AddSecretFields(HashSet<string> values, JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String when SecretName().IsMatch(property.Name) && !property.Name.Contains("type", StringComparison.OrdinalIgnoreCase):
                    values.Add(property.Value.GetString() ?? "");
                    break;
                case JsonValueKind.Object:
                    AddSecretFields(values, property.Value);
                    break;
            }
        }
    }

    // ampcode.upstream-api-key and ampcode.upstream-api-keys[].upstream-api-key (the Amp plugin's upstream keys).
    private static void AddAmpKeys(HashSet<string> values, JsonElement amp)
    {
        if (amp.ValueKind != JsonValueKind.Object) return;
        if (amp.TryGetProperty("upstream-api-key", out var key) && key.ValueKind == JsonValueKind.String) values.Add(key.GetString() ?? "");
        if (!amp.TryGetProperty("upstream-api-keys", out var list) || list.ValueKind != JsonValueKind.Array) return;
        foreach (var entry in list.EnumerateArray())
            if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("upstream-api-key", out var k) && k.ValueKind == JsonValueKind.String)
                values.Add(k.GetString() ?? "");
    }

    private static void AddProxyPassword(HashSet<string> values, string? proxyUrl)
    {
        if (string.IsNullOrWhiteSpace(proxyUrl) || !Uri.TryCreate(proxyUrl, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.UserInfo)) return;
        var colon = uri.UserInfo.IndexOf(':');
        if (colon >= 0) values.Add(Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
    }

    [GeneratedRegex("token|key|secret|password|cookie|session", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
