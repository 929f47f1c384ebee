using System.Net;
using System.Security.Cryptography;
using System.Text;
using PluginProxy.Host.Payload;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace PluginProxy.Host.Config;

/// <summary>A loaded, validated config plus where it came from.</summary>
/// <param name="Config">The snapshot.</param>
/// <param name="Path">The file it came from; null when running on defaults.</param>
/// <param name="Hash">SHA-256 of the file's bytes, to skip reloads of identical content.</param>
/// <param name="UnknownKeys">Top-level keys that were ignored.</param>
internal sealed record LoadedConfig(ProxyConfig Config, string? Path, string Hash, IReadOnlyList<string> UnknownKeys)
{
    /// <summary>The compiled <c>payload:</c> rules.</summary>
    public PayloadRules Payload { get; init; } = PayloadRules.Empty;

    /// <summary>The whole file as JSON (scalars as strings), for plugin settings.</summary>
    public System.Text.Json.JsonElement Json { get; init; }

    /// <summary>CLIProxyAPI keys in the file that PluginProxy deliberately does not implement (<see cref="ConfigWarnings.Unsupported"/>).</summary>
    public IReadOnlyList<string> Unsupported { get; init; } = [];

    /// <summary>One line per thing the file asks for that is ignored: unsupported and unknown keys, CLIProxyAPI's native plugins.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PluginProxy.Abstractions.Plugins.PluginSettings> _settings = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The settings of one plugin: its <c>providers.&lt;id&gt;</c> block (built once per snapshot and plugin), plus the
    /// CLIProxyAPI top-level keys that belong to it (<see cref="PluginTopLevelKeys"/>) where the block does not set them.
    /// </summary>
    public PluginProxy.Abstractions.Plugins.PluginSettings SettingsFor(string pluginId) =>
        _settings.TryGetValue(pluginId, out var built) ? built : _settings.GetOrAdd(pluginId, BuildSettings); // per request: no closure

    private PluginProxy.Abstractions.Plugins.PluginSettings BuildSettings(string id)
    {
        var providers = Json.ValueKind == System.Text.Json.JsonValueKind.Object && Json.TryGetProperty("providers", out var p) ? p : default;
        var own = providers.ValueKind == System.Text.Json.JsonValueKind.Object && providers.TryGetProperty(id, out var o) ? o : default;
        return new PluginProxy.Abstractions.Plugins.PluginSettings(PluginTopLevelKeys.Merge(id, own, Json), Json);
    }

    private Scheduling.ErrorRules? _errorRules;

    /// <summary>The compiled <c>request-scoped-errors</c> / <c>oauth-request-scoped-errors</c> rules (built once per snapshot).</summary>
    internal Scheduling.ErrorRules ErrorRules => _errorRules ??= Scheduling.ErrorRules.Build(Config);

    /// <summary>The directory relative paths in the config are resolved against.</summary>
    public string BaseDirectory => Path is null ? Directory.GetCurrentDirectory() : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
}

/// <summary>The config file is unusable; the message says where and why (never a secret).</summary>
internal sealed class ConfigException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Parses and validates config.yaml.</summary>
internal static class ConfigLoader
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(HyphenatedNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    // "payload" is read from the node tree (PayloadRules), where YAML scalar types survive.
    private static readonly HashSet<string> KnownKeys = typeof(ProxyConfig).GetProperties()
        .Select(p => HyphenatedNamingConvention.Instance.Apply(p.Name))
        .Append("payload")
        .Append("providers")
        .Append("ampcode") // the Amp routing plugin's block, read through PluginSettings.Section
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Reads the file at <paramref name="path"/>; throws <see cref="ConfigException"/> when it does not parse or validate.</summary>
    /// <param name="path">The file.</param>
    /// <param name="boundHost">On a reload, the address the server actually listens on (host changes need a restart), so
    /// the open-bind rule is checked against it rather than against the file's <c>host</c>.</param>
    public static LoadedConfig LoadFile(string path, string? boundHost = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new ConfigException($"cannot read {path}: {e.Message}", e);
        }
        return Parse(Encoding.UTF8.GetString(bytes), path, Hash(bytes), boundHost);
    }

    /// <summary>The safe defaults used when no config file exists: loopback bind, no keys.</summary>
    public static LoadedConfig Defaults() => new(new ProxyConfig { Host = "127.0.0.1" }, null, "", []);

    public static LoadedConfig Parse(string yaml, string? path = null, string? hash = null, string? boundHost = null)
    {
        ProxyConfig config;
        YamlMappingNode? root;
        try
        {
            config = string.IsNullOrWhiteSpace(yaml) ? new ProxyConfig() : Deserializer.Deserialize<ProxyConfig>(yaml) ?? new ProxyConfig();
            root = RootNode(yaml);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{path ?? "config"}: line {e.Start.Line}, column {e.Start.Column}: {Describe(e)}", e);
        }
        var source = path ?? "config";
        // A blank "- " entry reads as null; blanks are never keys.
        config.ApiKeys.RemoveAll(string.IsNullOrWhiteSpace);
        Validate(config, source, boundHost ?? BindHost(config));
        PayloadRules payload;
        try
        {
            payload = PayloadRules.Parse(root?.Children.TryGetValue(new YamlScalarNode("payload"), out var node) == true ? node : null);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{source}: payload: {e.Message}", e);
        }
        var unknown = UnknownTopLevelKeys(root);
        var unsupported = TopLevelKeys(root).Where(ConfigWarnings.Unsupported.ContainsKey).ToList();
        return new LoadedConfig(config, path, hash ?? Hash(Encoding.UTF8.GetBytes(yaml)), unknown)
        {
            Payload = payload,
            Json = YamlJson.ToJson(root),
            Unsupported = unsupported,
            Warnings = ConfigWarnings.For(config, unknown, unsupported),
        };
    }

    public static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    /// <summary>True when the bind address only accepts connections from this machine.</summary>
    public static bool IsLoopback(string? host) =>
        host is not null && (host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));

    /// <summary>The address Kestrel binds: absent host is loopback; <c>""</c> means every interface.</summary>
    public static string BindHost(ProxyConfig config) => config.Host switch
    {
        null => "127.0.0.1",
        "" => "0.0.0.0",
        var h => h,
    };

    private static void Validate(ProxyConfig config, string source, string bind)
    {
        if (config.Port is < 0 or > 65535)
            throw new ConfigException($"{source}: port {config.Port} is not between 0 and 65535");
        // Both the address in use and the file's own host count: the first matters now, the second at the next start.
        var open = new[] { bind, BindHost(config) }.FirstOrDefault(h => !IsLoopback(h));
        if (open is not null && config.ApiKeys.Count == 0)
            throw new ConfigException(
                $"{source}: the server is bound to '{open}', which is reachable from other machines, but api-keys is empty. " +
                "Add at least one client key under api-keys, or bind to 127.0.0.1.");
        if (config.Tls.Enable && (string.IsNullOrWhiteSpace(config.Tls.Cert) || string.IsNullOrWhiteSpace(config.Tls.Key)))
            throw new ConfigException($"{source}: tls.enable is true but tls.cert or tls.key is empty");
        if (!string.IsNullOrWhiteSpace(config.ProxyUrl))
            ValidateProxyUrl(config.ProxyUrl, source, "proxy-url");
        if (config.Timeouts.FirstByteSeconds < 0 || config.Timeouts.StreamIdleSeconds < 0)
            throw new ConfigException($"{source}: timeouts must not be negative (0 turns a timeout off)");
        if (config.MaxBodySizeMb is <= 0 or > 1024)
            throw new ConfigException($"{source}: max-body-size-mb must be between 1 and 1024");
        var strategy = config.Routing.Strategy?.Trim().ToLowerInvariant();
        if (strategy is not (null or "" or "round-robin" or "roundrobin" or "rr" or "fill-first" or "fillfirst" or "ff" or "weighted-round-robin" or "weightedroundrobin" or "wrr"))
            throw new ConfigException($"{source}: routing.strategy '{config.Routing.Strategy}' is not round-robin, weighted-round-robin or fill-first");
        if (!string.IsNullOrWhiteSpace(config.Routing.SessionAffinityTtl) && (!Durations.TryParse(config.Routing.SessionAffinityTtl, out var ttl) || ttl <= TimeSpan.Zero))
            throw new ConfigException($"{source}: routing.session-affinity-ttl '{config.Routing.SessionAffinityTtl}' is not a positive duration such as 1h, 30m or 90s");
        if (config.TransientErrorCooldownSeconds < -1)
            throw new ConfigException($"{source}: transient-error-cooldown-seconds must be -1 (none), 0 (60 s) or a number of seconds");
        if (config.MaxRetryCredentials < 0)
            throw new ConfigException($"{source}: max-retry-credentials must not be negative (0 tries every credential)");
        foreach (var entry in config.OpenaiCompatibility)
        {
            foreach (var key in entry.ApiKeyEntries.Where(k => !string.IsNullOrWhiteSpace(k.ProxyUrl)))
                ValidateProxyUrl(key.ProxyUrl!, source, $"openai-compatibility '{entry.Name}' proxy-url");
            foreach (var key in entry.ApiKeyEntries) ValidateWeight(key.Weight, source, $"openai-compatibility '{entry.Name}'");
            ValidateRules(entry.RequestScopedErrors, source, $"openai-compatibility '{entry.Name}' request-scoped-errors");
        }
        foreach (var (block, entries) in new[] { ("gemini-api-key", config.GeminiApiKey), ("claude-api-key", config.ClaudeApiKey), ("codex-api-key", config.CodexApiKey), ("vertex-api-key", config.VertexApiKey) })
        {
            foreach (var entry in entries)
            {
                if (!string.IsNullOrWhiteSpace(entry.ProxyUrl)) ValidateProxyUrl(entry.ProxyUrl, source, $"{block} proxy-url");
                ValidateWeight(entry.Weight, source, block);
                ValidateRules(entry.RequestScopedErrors, source, $"{block} request-scoped-errors");
            }
        }
        foreach (var (channel, rules) in config.OauthRequestScopedErrors)
            ValidateRules(rules, source, $"oauth-request-scoped-errors.{channel}");
    }

    /// <summary>The largest weight CLIProxyAPI accepts.</summary>
    public const int MaxWeight = 1_000_000;

    private static void ValidateWeight(int weight, string source, string what)
    {
        if (weight is < 0 or > MaxWeight)
            throw new ConfigException($"{source}: {what} weight must be between 0 (excluded) and {MaxWeight}");
    }

    private static void ValidateRules(List<RequestScopedErrorRule>? rules, string source, string what)
    {
        if (rules is null) return;
        foreach (var rule in rules)
        {
            try
            {
                Scheduling.ErrorRule.Compile(rule);
            }
            catch (FormatException e)
            {
                throw new ConfigException($"{source}: {what}: {e.Message}", e);
            }
        }
    }

    /// <summary><c>direct</c> or <c>none</c> as a proxy URL: connect directly, ignoring the global and environment proxies.</summary>
    public static bool IsDirect(string? proxyUrl) => proxyUrl?.Trim().ToLowerInvariant() is "direct" or "none";

    internal static void ValidateProxyUrl(string url, string source, string what)
    {
        if (IsDirect(url)) return;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "socks5" or "socks5h" or "socks4"))
            throw new ConfigException($"{source}: {what} must be an http://, https:// or socks5:// URL, or direct");
    }

    private static YamlMappingNode? RootNode(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode as YamlMappingNode;
    }

    private static IEnumerable<string> TopLevelKeys(YamlMappingNode? root) =>
        root is null ? [] : root.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "");

    private static List<string> UnknownTopLevelKeys(YamlMappingNode? root) =>
        TopLevelKeys(root).Where(k => !KnownKeys.Contains(k) && !ConfigWarnings.Unsupported.ContainsKey(k) && !ConfigWarnings.NoEffect.Contains(k)).ToList();

    // Inner YamlDotNet messages can quote the offending scalar, which may be a secret; keep only the outer description.
    private static string Describe(YamlException e)
    {
        var message = e.Message;
        var paren = message.IndexOf("): ", StringComparison.Ordinal);
        return paren >= 0 ? message[(paren + 3)..] : message;
    }
}
