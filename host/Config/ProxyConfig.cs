namespace PluginProxy.Host.Config;

/// <summary>
/// config.yaml, with CLIProxyAPI's key names (hyphenated). An instance is a snapshot: it is never changed after
/// loading; a reload publishes a new one. Keys PluginProxy does not know are ignored (and reported once).
/// </summary>
public sealed class ProxyConfig
{
    public const int DefaultPort = 8317;

    /// <summary>Bind address. Absent: 127.0.0.1. <c>""</c> or <c>0.0.0.0</c>: every interface (then <c>api-keys</c> are required).</summary>
    public string? Host { get; init; }
    public int Port { get; init; } = DefaultPort;
    public TlsConfig Tls { get; init; } = new();
    public List<string> ApiKeys { get; init; } = [];
    /// <summary>
    /// Require a client key (from <c>api-keys</c>) on plugin WebSocket endpoints such as the AI Studio relay's <c>/v1/ws</c>.
    /// Default true, as in today's CLIProxyAPI: a relay receives the prompts routed to it, so an open socket is an open
    /// door. With no <c>api-keys</c> (loopback only) nothing is required either way.
    /// </summary>
    public bool WsAuth { get; init; } = true;
    public string AuthDir { get; init; } = "~/.cli-proxy-api";
    public bool Debug { get; init; }
    public bool LoggingToFile { get; init; }
    public string? ProxyUrl { get; init; }
    public int RequestRetry { get; init; }
    public int MaxRetryInterval { get; init; }
    public bool DisableCooling { get; init; }
    public bool ForceModelPrefix { get; init; }
    public int NonstreamKeepaliveInterval { get; init; }
    /// <summary>Largest request body accepted, in MiB (PluginProxy addition).</summary>
    public int MaxBodySizeMb { get; init; } = 50;
    public RoutingConfig Routing { get; init; } = new();
    public StreamingConfig Streaming { get; init; } = new();
    public TimeoutsConfig Timeouts { get; init; } = new();
    public PluginsConfig Plugins { get; init; } = new();
    public List<ApiKeyEntry> GeminiApiKey { get; init; } = [];
    public List<ApiKeyEntry> ClaudeApiKey { get; init; } = [];
    public List<ApiKeyEntry> CodexApiKey { get; init; } = [];
    public List<ApiKeyEntry> VertexApiKey { get; init; } = [];
    public List<OpenAICompatibilityEntry> OpenaiCompatibility { get; init; } = [];
    public Dictionary<string, List<string>> OauthExcludedModels { get; init; } = [];
    public Dictionary<string, List<OAuthModelAlias>> OauthModelAlias { get; init; } = [];
    public RemoteManagementConfig RemoteManagement { get; init; } = new();
    public QuotaExceededConfig QuotaExceeded { get; init; } = new();
    /// <summary>
    /// Record usage statistics (CLIProxyAPI key, default false there). True here: ours are bounded in memory and
    /// persisted, they hold no prompt text and no client key (see host/UsageStatistics). Toggles live.
    /// </summary>
    public bool UsageStatisticsEnabled { get; init; } = true;
    /// <summary>The usage database (SQLite), relative to config.yaml's folder (PluginProxy addition). Needs a restart.</summary>
    public string UsageStatisticsDatabase { get; init; } = "usage.db";
    /// <summary>Seconds between writes to the usage database: an abrupt kill loses at most this much (PluginProxy addition).</summary>
    public int UsageStatisticsFlushSeconds { get; init; } = 5;

    /// <summary>Filtered upstream response headers are copied to the client's response.</summary>
    public bool PassthroughHeaders { get; init; }
    /// <summary>At most this many different credentials per round; 0 = all.</summary>
    public int MaxRetryCredentials { get; init; }
    /// <summary>Cooldowns are written to <c>.cds</c> files in auth-dir, so a restart keeps them.</summary>
    public bool SaveCooldownStatus { get; init; }
    /// <summary>Cooldown after 408/5xx/connection failures: 0 = 60 s, -1 = none, else seconds.</summary>
    public int TransientErrorCooldownSeconds { get; init; }
    /// <summary>No Claude cloaking unless a credential asks for it (routed to the Claude plugin's settings).</summary>
    public bool DisableClaudeCloakMode { get; init; }
    /// <summary>Claude Code identity defaults (user-agent, package-version, runtime-version, os, arch, timeout), for the Claude plugin.</summary>
    public Dictionary<string, string> ClaudeHeaderDefaults { get; init; } = [];
    /// <summary>Codex CLI identity defaults (user-agent, beta-features), for the Codex plugin's OAuth requests.</summary>
    public Dictionary<string, string> CodexHeaderDefaults { get; init; } = [];
    /// <summary>Request-scoped error rules per OAuth channel (credential files), keyed by provider (<c>claude</c>, <c>codex</c>, ...).</summary>
    public Dictionary<string, List<RequestScopedErrorRule>> OauthRequestScopedErrors { get; init; } = [];
}

/// <summary>
/// One <c>request-scoped-errors</c> rule: an upstream failure with this <see cref="Status"/> whose body contains one of
/// <see cref="Match"/> or matches one of <see cref="MatchRegexr"/> gets <see cref="Action"/> instead of the built-in
/// classification (<c>stop</c>, <c>stop-and-cooldown</c>, <c>continue</c>, <c>continue-and-cooldown</c>).
/// </summary>
public sealed class RequestScopedErrorRule
{
    public int Status { get; init; }
    public List<string> Match { get; init; } = [];
    /// <summary>CLIProxyAPI's spelling; <c>match-regex</c> is accepted too.</summary>
    public List<string> MatchRegexr { get; init; } = [];
    public List<string> MatchRegex { get; init; } = [];
    public string? Action { get; init; }
}

/// <summary>The <c>quota-exceeded:</c> block. CLIProxyAPI's two flags are accepted but have no effect there either.</summary>
public sealed class QuotaExceededConfig
{
    public bool SwitchProject { get; init; }
    public bool SwitchPreviewModel { get; init; }
    /// <summary>Cap of the exponential 429 backoff when the upstream gives no reset time, in seconds (PluginProxy addition).</summary>
    public int MaxBackoffSeconds { get; init; } = 1800;
}

public sealed class TlsConfig
{
    public bool Enable { get; init; }
    public string? Cert { get; init; }
    public string? Key { get; init; }
}

public sealed class RoutingConfig
{
    /// <summary><c>round-robin</c> (default), <c>weighted-round-robin</c> or <c>fill-first</c>.</summary>
    public string Strategy { get; init; } = "round-robin";
    /// <summary>Requests of one conversation stay on the credential that served its first turn while it is usable.</summary>
    public bool SessionAffinity { get; init; }
    /// <summary>How long an unused binding is kept: a Go-style duration (<c>1h</c>, <c>30m</c>, <c>90s</c>) or seconds.</summary>
    public string? SessionAffinityTtl { get; init; }

    /// <summary>The parsed <see cref="SessionAffinityTtl"/>; one hour when absent (the loader refuses invalid values).</summary>
    public TimeSpan AffinityTtl => Durations.TryParse(SessionAffinityTtl, out var ttl) && ttl > TimeSpan.Zero ? ttl : TimeSpan.FromHours(1);
}

public sealed class StreamingConfig
{
    public int KeepaliveSeconds { get; init; }
    public int BootstrapRetries { get; init; }
}

/// <summary>The <c>timeouts:</c> block (PluginProxy addition): per upstream attempt; 0 turns one off.</summary>
public sealed class TimeoutsConfig
{
    /// <summary>No response headers from the upstream within this many seconds: the attempt fails as transient and the next credential is tried.</summary>
    public int FirstByteSeconds { get; init; } = 120;
    /// <summary>No bytes from the upstream for this many seconds while reading an answer: a stream ends with the dialect's error event.</summary>
    public int StreamIdleSeconds { get; init; } = 300;

    public TimeSpan FirstByte => FirstByteSeconds > 0 ? TimeSpan.FromSeconds(FirstByteSeconds) : Timeout.InfiniteTimeSpan;
    public TimeSpan StreamIdle => StreamIdleSeconds > 0 ? TimeSpan.FromSeconds(StreamIdleSeconds) : Timeout.InfiniteTimeSpan;
}

/// <summary>
/// The <c>plugins:</c> block. PluginProxy's own keys are <c>folder</c>, <c>include</c>, <c>exclude</c>; CLIProxyAPI's
/// (<c>enabled</c>, <c>dir</c>, <c>configs</c>) describe its native Go plugins, which are not loaded: they are read so that
/// its config files parse, and never turn off PluginProxy's providers.
/// </summary>
public sealed class PluginsConfig
{
    /// <summary>CLIProxyAPI: whether its native plugins load. Ignored by PluginProxy (with a warning when set).</summary>
    public bool? Enabled { get; init; }
    /// <summary>CLIProxyAPI: its native plugins' folder. Not PluginProxy's <see cref="Folder"/>.</summary>
    public string? Dir { get; init; }
    /// <summary>CLIProxyAPI: per native plugin settings.</summary>
    public Dictionary<string, object?> Configs { get; init; } = [];

    /// <summary>Folder holding one sub-folder per plugin; relative to the config file. Absent: <c>plugins/</c> next to the executable.</summary>
    public string? Folder { get; init; }
    /// <summary>Glob patterns (relative to the folder) selecting plugin main assemblies, <c>&lt;name&gt;/&lt;name&gt;.dll</c>.</summary>
    public List<string> Include { get; init; } = ["**/*.dll"];
    public List<string> Exclude { get; init; } = [];
}

public sealed class RemoteManagementConfig
{
    public bool AllowRemote { get; init; }
    public string? SecretKey { get; init; }
    public bool DisableControlPanel { get; init; }
}

/// <summary>One entry of <c>gemini-api-key</c>, <c>claude-api-key</c>, <c>codex-api-key</c> or <c>vertex-api-key</c>.</summary>
public sealed class ApiKeyEntry
{
    public string? ApiKey { get; init; }
    public int Priority { get; init; }
    public string? Prefix { get; init; }
    public string? BaseUrl { get; init; }
    public string? ProxyUrl { get; init; }
    public List<ModelAliasEntry> Models { get; init; } = [];
    public Dictionary<string, string> Headers { get; init; } = [];
    public List<string> ExcludedModels { get; init; } = [];
    /// <summary><c>claude-api-key</c> only: how requests are made to look like Claude Code's (the Claude plugin reads it).</summary>
    public CloakEntry? Cloak { get; init; }
    /// <summary>Share under <c>routing.strategy: weighted-round-robin</c>; 0 excludes the key there.</summary>
    public int Weight { get; init; } = 1;
    public bool? DisableCooling { get; init; }
    public int? RequestRetry { get; init; }
    public List<RequestScopedErrorRule> RequestScopedErrors { get; init; } = [];
}

/// <summary>The <c>cloak</c> block of a <c>claude-api-key</c> entry: <c>mode</c> auto/always/never, <c>strict-mode</c>, <c>sensitive-words</c>.</summary>
public sealed class CloakEntry
{
    public string? Mode { get; init; }
    public bool StrictMode { get; init; }
    public List<string> SensitiveWords { get; init; } = [];
}

public sealed class OpenAICompatibilityEntry
{
    public string? Name { get; init; }
    public int Priority { get; init; }
    public string? Prefix { get; init; }
    public string? BaseUrl { get; init; }
    public List<ApiKeyProxyEntry> ApiKeyEntries { get; init; } = [];
    public List<ModelAliasEntry> Models { get; init; } = [];
    public Dictionary<string, string> Headers { get; init; } = [];
    /// <summary>The provider is kept in the file but serves nothing.</summary>
    public bool Disabled { get; init; }
    public bool? DisableCooling { get; init; }
    public int? RequestRetry { get; init; }
    public List<RequestScopedErrorRule> RequestScopedErrors { get; init; } = [];
}

public sealed class ApiKeyProxyEntry
{
    public string? ApiKey { get; init; }
    /// <summary>An outbound proxy URL, or <c>direct</c>/<c>none</c> for a direct connection whatever the global and environment proxies say.</summary>
    public string? ProxyUrl { get; init; }
    /// <summary>Share under <c>routing.strategy: weighted-round-robin</c>; 0 excludes the key there.</summary>
    public int Weight { get; init; } = 1;
}

public sealed class ModelAliasEntry
{
    public string? Name { get; init; }
    public string? Alias { get; init; }
}

public sealed class OAuthModelAlias
{
    public string? Name { get; init; }
    public string? Alias { get; init; }
    public bool Fork { get; init; }
}
