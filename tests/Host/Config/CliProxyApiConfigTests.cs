using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Tests.Host.Config;

/// <summary>
/// A config written the way CLIProxyAPI's current example reads once its commented examples are switched on: the same
/// keys, values of our own. It must load, with one warning per deliberately unsupported key and nothing else.
/// </summary>
public sealed class CliProxyApiConfigTests
{
    internal const string Example = """
        host: ""
        port: 8317
        tls:
          enable: false
          cert: ""
          key: ""
        remote-management:
          allow-remote: false
          secret-key: ""
          disable-control-panel: true
          disable-auto-update-panel: true
          panel-github-repository: "https://github.com/example/panel"
        auth-dir: "~/.cli-proxy-api"
        api-keys:
          - "client-one"
          - "client-two"
        debug: false
        pprof:
          enable: false
          addr: "127.0.0.1:8316"
        credential-concurrency:
          lifecycle-config-revision: 2
          cpa-heartbeat-timeout: "4s"
          max-limit: 5000
        credential-in-flight:
          snapshot-interval: 3s
          stale-after: 12s
        plugins:
          enabled: false
          dir: "native-plugins"
          store-sources:
            - "https://plugins.example.org/registry.json"
          store-auth:
            - match: "https://plugins.example.org/"
              apply-to: ["registry"]
              type: bearer
              token-env: "PLUGIN_STORE_TOKEN"
          configs:
            sample:
              enabled: true
              priority: 2
              mode: "fast"
        commercial-mode: false
        logging-to-file: true
        logs-max-total-size-mb: 200
        error-logs-max-files: 5
        usage-statistics-enabled: true
        redis-usage-queue-retention-seconds: 120
        proxy-url: ""
        force-model-prefix: false
        passthrough-headers: true
        request-retry: 2
        max-retry-credentials: 3
        max-retry-interval: 20
        disable-cooling: false
        save-cooldown-status: true
        transient-error-cooldown-seconds: 15
        disable-claude-cloak-mode: true
        claude-code:
          disable-cloaking-model-list: true
        disable-image-generation: "chat"
        gpt-image-2-base-model: "gpt-5.4-mini"
        video-result-auth-cache-ttl: "2h"
        auth-auto-refresh-workers: 8
        quota-exceeded:
          switch-project: true
          switch-preview-model: false
          antigravity-credits: false
        routing:
          strategy: "weighted-round-robin"
          session-affinity: true
          session-affinity-ttl: "45m"
        codex:
          identity-confuse: false
          disable-codex-cloaking: false
          stream-bootstrap-buffering: true
          optimize-multi-agent-v2: false
          live-media-relay:
            enabled: false
            max-sessions: 8
            ice-servers:
              - urls: ["stun:stun.example.org:3478"]
        antigravity:
          sensitive-words: ["proxy"]
        xai:
          inject-x-search: true
        ws-auth: true
        nonstream-keepalive-interval: 10
        streaming:
          keepalive-seconds: 20
          bootstrap-retries: 1
        antigravity-signature-cache-enabled: true
        antigravity-signature-bypass-strict: false
        gemini-api-key:
          - api-key: "AIza-gemini-one"
            weight: 4
            prefix: "team"
            disable-cooling: true
            request-retry: 1
            request-scoped-errors:
              - status: 400
                match: ["token count exceeds"]
                match-regexr: ["exceeds the maximum .* tokens$"]
                action: "stop"
            base-url: "https://generativelanguage.googleapis.com"
            headers:
              X-Team: "blue"
              X-Claude-Code-Session-Id: "$X-Session"
            proxy-url: "direct"
            models:
              - name: "gemini-2.5-flash"
                alias: "flash"
                display-name: "Flash"
                max-context-length: 1048576
                is-compat: false
                thinking:
                  levels: ["high", "low"]
            excluded-models:
              - "gemini-2.5-pro"
              - "*-preview"
          - api-key: "AIza-gemini-two"
        interactions-api-key:
          - api-key: "AIza-interactions"
            weight: 2
        codex-api-key:
          - api-key: "sk-codex-one"
            weight: 2
            request-scoped-errors:
              - status: 400
                match: ["context_window_exceeded"]
                action: "stop-and-cooldown"
            base-url: "https://codex.example.org"
            alpha-search: false
            proxy-url: "socks5://127.0.0.1:1080"
            models:
              - name: "gpt-5-codex"
                alias: "codex-latest"
                force-mapping: true
        xai-api-key:
          - api-key: "xai-key"
            base-url: "https://api.x.ai/v1"
        claude-api-key:
          - api-key: "sk-ant-api-one"
          - api-key: "sk-ant-api-two"
            weight: 3
            prefix: "work"
            request-scoped-errors:
              - status: 400
                match: ["prompt is too long"]
                action: "continue"
            base-url: "https://claude.example.org"
            headers:
              X-Origin: "$X-Forwarded-For"
            proxy-url: "none"
            models:
              - name: "claude-sonnet-4-5"
                alias: "sonnet"
            excluded-models: ["*haiku*"]
            rebuild-mid-system-message: false
            cloak:
              mode: "always"
              strict-mode: false
              sensitive-words: ["proxy"]
              cache-user-id: true
            fingerprint-profile: "claude-code-cli"
            experimental-cch-signing: false
        claude-header-defaults:
          user-agent: "claude-cli/2.2.0 (external, cli)"
          package-version: "0.95.1"
          runtime-version: "v26.4.0"
          os: "Linux"
          arch: "x64"
          timeout: "900"
          timezone: "Europe/Berlin"
          stabilize-device-profile: false
        codex-header-defaults:
          user-agent: "codex_cli_rs/0.120.0 (Ubuntu 24.04; x86_64) xterm"
          beta-features: "multi_agent"
        openai-compatibility:
          - name: "router"
            disabled: false
            prefix: "r"
            base-url: "https://router.example.org/api/v1"
            support-prompt-cache-key: true
            disable-cooling: false
            request-retry: 2
            request-scoped-errors:
              - status: 400
                match: ["maximum_context_length"]
                match-regexr: ["^context_length_exceeded"]
                action: "continue-and-cooldown"
            headers:
              X-Title: "team proxy"
            api-key-entries:
              - api-key: "sk-router-one"
                weight: 5
                proxy-url: "http://127.0.0.1:3128"
              - api-key: "sk-router-two"
                proxy-url: "direct"
            models:
              - name: "moonshotai/kimi-k2"
                alias: "kimi"
                display-name: "Kimi"
                image: false
                input-modalities: [text]
                output-modalities: [text]
                thinking:
                  levels: ["low", "high"]
              - name: "glm-5"
                alias: "pool-model"
              - name: "deepseek-v3.1"
                alias: "pool-model"
          - name: "parked"
            disabled: true
            base-url: "https://parked.example.org/v1"
            api-key-entries:
              - api-key: "sk-parked"
        vertex-api-key:
          - api-key: "vk-vertex"
            weight: 2
            prefix: "vx"
            disable-cooling: false
            request-retry: 1
            base-url: "https://vertex.example.org/api"
            proxy-url: "direct"
            headers:
              X-Tenant: "t1"
            models:
              - name: "gemini-2.5-pro"
                alias: "vertex-pro"
            excluded-models: ["imagen-*"]
        oauth-model-alias:
          claude:
            - name: "claude-sonnet-4-5-20250929"
              alias: "cs45"
              display-name: "Sonnet"
              fork: true
          codex:
            - name: "gpt-5"
              alias: "g5"
              force-mapping: false
        oauth-excluded-models:
          claude:
            - "claude-3-5-haiku-20241022"
          codex:
            - "gpt-5-codex-mini"
        oauth-request-scoped-errors:
          claude:
            - status: 400
              match: ["prompt is too long"]
              action: "stop"
          codex:
            - status: 400
              match-regexr: ["context_window_exceeded"]
              action: "continue"
        payload:
          default:
            - models:
                - name: "gemini-2.5-pro"
                  protocol: "gemini"
              params:
                "generationConfig.thinkingConfig.thinkingBudget": 16384
          override:
            - models:
                - name: "gpt-*"
                  protocol: "codex"
              params:
                "reasoning.effort": "high"
          filter:
            - models:
                - name: "gemini-2.5-pro"
              params:
                - "generationConfig.responseJsonSchema"
        """;

    // Built by other helpers (relay: ws-auth; usage: usage-statistics-enabled); still unknown on this branch.
    [Fact]
    public void Cliproxyapis_example_config_loads_with_warnings_only_for_the_deliberately_unsupported_keys()
    {
        var loaded = ConfigLoader.Parse(Example);

        Assert.Empty(loaded.UnknownKeys);
        string[] unsupported =
        [
            "pprof", "credential-concurrency", "credential-in-flight", "commercial-mode", "redis-usage-queue-retention-seconds",
            "disable-image-generation", "gpt-image-2-base-model", "video-result-auth-cache-ttl", "codex", "antigravity", "xai",
            "antigravity-signature-cache-enabled", "antigravity-signature-bypass-strict", "interactions-api-key", "xai-api-key",
        ];
        Assert.Equal(unsupported.Order(), loaded.Unsupported.Order());
        var warnings = loaded.Warnings.ToList();
        Assert.Equal(unsupported.Length + 1, warnings.Count);
        Assert.All(unsupported, key => Assert.Contains(warnings, w => w.StartsWith($"Config: '{key}' is not supported by PluginProxy and is ignored: ")));
        Assert.Contains(warnings, w => w.Contains("CLIProxyAPI's native plugins, which PluginProxy does not load"));
    }

    [Fact]
    public void The_keys_it_sets_reach_the_scheduler_and_the_credentials()
    {
        var c = ConfigLoader.Parse(Example).Config;
        Assert.Equal(RoutingStrategy.WeightedRoundRobin, Scheduler.StrategyOf(c));
        Assert.True(c.Routing.SessionAffinity);
        Assert.Equal(TimeSpan.FromMinutes(45), c.Routing.AffinityTtl);
        Assert.True(c.PassthroughHeaders);
        Assert.True(c.SaveCooldownStatus);
        Assert.Equal(3, c.MaxRetryCredentials);
        Assert.Equal(TimeSpan.FromSeconds(15), CooldownPolicy.TransientFor(c.TransientErrorCooldownSeconds));
        Assert.False(c.Plugins.Enabled);
        Assert.Equal("native-plugins", c.Plugins.Dir);
        Assert.Null(c.Plugins.Folder); // CLIProxyAPI's dir is not where PluginProxy loads its plugins from
        Assert.Equal(["**/*.dll"], c.Plugins.Include);

        var records = ConfigCredentials.Synthesize(c);
        Assert.DoesNotContain(records, r => r.Provider == "parked");
        var router = records.Where(r => r.Provider == "router").ToList();
        Assert.Equal([5, 1], router.Select(r => r.Weight).Order().Reverse());
        Assert.Contains(router, r => r.ProxyUrl == "direct");
        var gemini = records.First(r => r.Type == "gemini");
        Assert.Equal((4, true, 1), (gemini.Weight, gemini.DisableCooling, gemini.RequestRetry));

        var rules = ErrorRules.Build(c);
        var claudeTwo = records.Single(r => r.Type == "claude" && r.ApiKey == "sk-ant-api-two");
        Assert.Equal(ErrorAction.Continue, rules.Match(claudeTwo, new PluginProxy.Abstractions.Upstream.UpstreamException(
            PluginProxy.Abstractions.Upstream.FailureKind.ClientError, 400, "upstream", """{"error":{"message":"prompt is too long: 210000 tokens"}}""")));
        Assert.Null(rules.Match(records.Single(r => r.ApiKey == "sk-ant-api-one"), new PluginProxy.Abstractions.Upstream.UpstreamException(
            PluginProxy.Abstractions.Upstream.FailureKind.ClientError, 400, "prompt is too long")));
        var claudeFile = new PluginProxy.Abstractions.Credentials.CredentialRecord { Id = "claude-x.json", Type = "claude", Provider = "claude", Label = "x" };
        Assert.Equal(ErrorAction.Stop, rules.Match(claudeFile, new PluginProxy.Abstractions.Upstream.UpstreamException(
            PluginProxy.Abstractions.Upstream.FailureKind.ClientError, 400, "prompt is too long")));
        Assert.Null(rules.Match(claudeFile, new PluginProxy.Abstractions.Upstream.UpstreamException(
            PluginProxy.Abstractions.Upstream.FailureKind.ClientError, 413, "prompt is too long")));
    }

    [Fact]
    public void Top_level_claude_and_codex_keys_reach_those_plugins_settings_and_their_own_block_wins()
    {
        var loaded = ConfigLoader.Parse(Example + "\nproviders:\n  claude:\n    os: \"Windows\"\n");
        var claude = loaded.SettingsFor("claude");
        Assert.True(claude.GetBool("disable-cloak-mode", false));
        Assert.Equal("claude-cli/2.2.0 (external, cli)", claude.GetString("user-agent"));
        Assert.Equal("0.95.1", claude.GetString("package-version"));
        Assert.Equal("Windows", claude.GetString("os"));
        var codex = loaded.SettingsFor("codex");
        Assert.Equal("codex_cli_rs/0.120.0 (Ubuntu 24.04; x86_64) xterm", codex.GetString("user-agent"));
        Assert.Null(codex.GetString("package-version"));
        Assert.Null(loaded.SettingsFor("gemini").GetString("user-agent"));
    }

    [Fact]
    public void Pluginproxys_own_plugins_block_still_parses_beside_cliproxyapis()
    {
        var loaded = ConfigLoader.Parse("plugins:\n  folder: ./p\n  include: [\"Claude/*.dll\"]\n  exclude: [\"Amp/**\"]\n");
        Assert.Equal("./p", loaded.Config.Plugins.Folder);
        Assert.Equal(["Claude/*.dll"], loaded.Config.Plugins.Include);
        Assert.Empty(loaded.Warnings);
    }

    [Theory]
    [InlineData("routing: {strategy: random}", "routing.strategy")]
    [InlineData("routing: {session-affinity-ttl: soon}", "session-affinity-ttl")]
    [InlineData("transient-error-cooldown-seconds: -5", "transient-error-cooldown-seconds")]
    [InlineData("claude-api-key: [{api-key: k, request-scoped-errors: [{status: 400, match: [x], action: retry}]}]", "action 'retry'")]
    [InlineData("oauth-request-scoped-errors: {claude: [{status: 400, match-regexr: ['(unclosed'], action: stop}]}", "not a valid regular expression")]
    [InlineData("oauth-request-scoped-errors: {claude: [{status: 400, action: stop}]}", "at least one match")]
    [InlineData("codex-api-key: [{api-key: k, base-url: 'http://x', proxy-url: 'ftp://p'}]", "proxy-url")]
    public void Invalid_values_of_the_new_keys_are_refused_with_the_reason(string yaml, string expected) =>
        Assert.Contains(expected, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml)).Message);

    [Theory]
    [InlineData("1h", 3600)]
    [InlineData("30m", 1800)]
    [InlineData("1h30m", 5400)]
    [InlineData("90s", 90)]
    [InlineData("120", 120)]
    public void Affinity_ttls_read_go_durations_and_seconds(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), new RoutingConfig { SessionAffinityTtl = text }.AffinityTtl);
}
