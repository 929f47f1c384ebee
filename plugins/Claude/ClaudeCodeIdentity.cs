namespace PluginProxy.Plugins.Claude;

/// <summary>
/// The Claude Code client profile the proxy presents upstream, kept in one place as data: Anthropic gates some models
/// and OAuth tokens by client, so every request looks like one measured Claude Code build whatever the real client is.
/// A real Claude Code client keeps its own user agent and betas.
/// </summary>
internal static class ClaudeCodeIdentity
{
    public const string DefaultBaseUrl = "https://api.anthropic.com";
    public const string AnthropicVersion = "2023-06-01";
    public const string UserAgent = "claude-cli/2.1.289 (external, cli)";

    /// <summary>Client user agents that mark a real Claude Code (no cloaking in <c>auto</c> mode, its user agent kept).</summary>
    public const string ClaudeCodeUserAgentPrefix = "claude-cli";

    /// <summary>Sent with every request (the Stainless SDK headers of the Node build Claude Code ships).</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Headers =
    [
        new("Anthropic-Dangerous-Direct-Browser-Access", "true"),
        new("X-App", "cli"),
        new("X-Stainless-Lang", "js"),
        new("X-Stainless-Package-Version", "0.70.0"),
        new("X-Stainless-Os", "MacOS"),
        new("X-Stainless-Arch", "arm64"),
        new("X-Stainless-Runtime", "node"),
        new("X-Stainless-Runtime-Version", "v24.3.0"),
        new("X-Stainless-Retry-Count", "0"),
        new("X-Stainless-Timeout", "600"),
    ];

    /// <summary>
    /// Settings that replace a measured identity header (<c>claude-header-defaults</c> in a CLIProxyAPI config, which the
    /// host copies into this plugin's settings; <c>user-agent</c> is read where the user agent is chosen).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> SettingFor = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["X-Stainless-Package-Version"] = "package-version",
        ["X-Stainless-Runtime-Version"] = "runtime-version",
        ["X-Stainless-Os"] = "os",
        ["X-Stainless-Arch"] = "arch",
        ["X-Stainless-Timeout"] = "timeout",
    };

    /// <summary>The configured value of an identity header, or null to keep the measured one.</summary>
    public static string? Configured(PluginProxy.Abstractions.Plugins.PluginSettings settings, string header) =>
        SettingFor.TryGetValue(header, out var key) ? settings.GetString(key) : null;

    /// <summary>Betas when the client named none.</summary>
    public static readonly IReadOnlyList<string> DefaultBetas = ["claude-code-20250219", "interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14"];

    /// <summary>Betas an OAuth (Claude subscription) token cannot do without.</summary>
    public static readonly IReadOnlyList<string> OAuthBetas = ["claude-code-20250219", "oauth-2025-04-20"];

    /// <summary>
    /// Top-level body fields that Anthropic accepts only with a beta: a body that carries the field gets the beta (a beta
    /// family is matched by its name without the date, so a client's newer date wins).
    /// </summary>
    public static readonly IReadOnlyList<(string Field, string Beta)> FieldBetas =
    [
        ("context_management", "context-management-2025-06-27"),
        ("safeguards", "dangerous-tool-use-2026-09-03"),
        ("speed", "fast-mode-2026-02-01"),
        ("fallbacks", "server-side-fallback-2026-03-01"),
    ];

    /// <summary>The system prompt line Anthropic expects first from Claude Code (cloaking).</summary>
    public const string SystemPrompt = "You are Claude Code, Anthropic's official CLI for Claude.";
}
