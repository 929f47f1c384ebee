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
    /// <summary>Require a client key (from <c>api-keys</c>) on plugin WebSocket endpoints such as the AI Studio relay's <c>/v1/ws</c>.</summary>
    public bool WsAuth { get; init; }
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
    /// <summary><c>round-robin</c> (default) or <c>fill-first</c>.</summary>
    public string Strategy { get; init; } = "round-robin";
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

/// <summary>The <c>plugins:</c> block (PluginProxy addition).</summary>
public sealed class PluginsConfig
{
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
}

public sealed class ApiKeyProxyEntry
{
    public string? ApiKey { get; init; }
    public string? ProxyUrl { get; init; }
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
