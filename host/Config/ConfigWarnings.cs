namespace PluginProxy.Host.Config;

/// <summary>
/// What a config file asks for that PluginProxy does not do, said once per key: CLIProxyAPI's keys for features left
/// out on purpose (with the reason), keys that are accepted because PluginProxy already behaves that way, CLIProxyAPI's
/// native-plugin settings, and keys nobody knows.
/// </summary>
internal static class ConfigWarnings
{
    /// <summary>CLIProxyAPI top-level keys for features PluginProxy deliberately does not implement, and why.</summary>
    public static readonly IReadOnlyDictionary<string, string> Unsupported = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["pprof"] = "Go's profiler; profile the .NET process with dotnet-counters or dotnet-trace instead",
        ["commercial-mode"] = "there is no high-overhead request-logging middleware to turn off (the access log is one line per request)",
        ["disable-image-generation"] = "image generation (/v1/images/*, the injected image_generation tool) is not implemented",
        ["gpt-image-2-base-model"] = "image generation (/v1/images/*, the injected image_generation tool) is not implemented",
        ["video-result-auth-cache-ttl"] = "video generation is not implemented",
        ["codex"] = "CLIProxyAPI's Codex behaviours (identity-confuse, disable-codex-cloaking, stream-bootstrap-buffering, optimize-multi-agent-v2) and the live media relay (WebRTC) are not implemented",
        ["xai"] = "xAI is not a built-in provider (an openai-compatibility entry with base-url https://api.x.ai/v1 serves its models)",
        ["xai-api-key"] = "xAI is not a built-in provider (an openai-compatibility entry with base-url https://api.x.ai/v1 serves its models)",
        ["antigravity"] = "Antigravity is not a provider of PluginProxy",
        ["antigravity-signature-cache-enabled"] = "Antigravity is not a provider of PluginProxy",
        ["antigravity-signature-bypass-strict"] = "Antigravity is not a provider of PluginProxy",
        ["credential-concurrency"] = "Home mode (nodes managed by a CLIProxyAPI Home) is not implemented",
        ["credential-in-flight"] = "Home mode (nodes managed by a CLIProxyAPI Home) is not implemented",
        ["home"] = "Home mode (nodes managed by a CLIProxyAPI Home) is not implemented",
        ["interactions-api-key"] = "the Gemini Interactions API (/v1beta/interactions) is not served; gemini-api-key entries serve Gemini models",
        ["redis-usage-queue-retention-seconds"] = "there is no Redis usage queue; usage statistics are kept by PluginProxy itself",
    };

    /// <summary>CLIProxyAPI keys accepted silently because PluginProxy already behaves as the key would make it (README lists why).</summary>
    public static readonly IReadOnlySet<string> NoEffect = new HashSet<string>(StringComparer.Ordinal)
    {
        "claude-code",               // disable-cloaking-model-list: PluginProxy's listings never cloak model ids
        "auth-auto-refresh-workers", // refreshes run from one timer, single-flight per file; there is no pool to size
        "logs-max-total-size-mb",    // log files roll at 10 MB and daily, and the newest 10 are kept
        "error-logs-max-files",      // there are no per-request error log files
    };

    /// <summary>The warning lines for a loaded file.</summary>
    public static IReadOnlyList<string> For(ProxyConfig config, IReadOnlyList<string> unknown, IReadOnlyList<string> unsupported)
    {
        var lines = new List<string>();
        foreach (var key in unsupported) lines.Add($"Config: '{key}' is not supported by PluginProxy and is ignored: {Unsupported[key]}");
        var plugins = config.Plugins;
        if (plugins.Enabled is not null || !string.IsNullOrWhiteSpace(plugins.Dir) || plugins.Configs.Count > 0)
            lines.Add("Config: plugins.enabled, plugins.dir and plugins.configs configure CLIProxyAPI's native plugins, which PluginProxy does not load; " +
                "its own plugins load from plugins.folder and the built-in providers stay on");
        foreach (var key in unknown) lines.Add($"Config: unknown key '{key}' ignored");
        return lines;
    }
}
