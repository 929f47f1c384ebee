using PluginProxy.Host.Config;

namespace PluginProxy.Tests.Host.Config;

/// <summary>The <c>providers.&lt;plugin-id&gt;</c> block as plugins read it, and top-level blocks a routing plugin owns.</summary>
public sealed class PluginSettingsTests
{
    private const string Yaml = """
        providers:
          claude:
            api-url: "https://gateway.example/anthropic"
            refresh-lead-hours: 4
            cloak: true
          gemini: {}
        ampcode:
          upstream-url: "https://ampcode.example"
          model-mappings:
            - from: "claude-opus-4"
              to: "gemini-2.5-pro"
        """;

    [Fact]
    public void A_plugin_reads_its_own_block_with_defaults_for_what_is_absent()
    {
        var config = ConfigLoader.Parse(Yaml);
        var claude = config.SettingsFor("claude");
        Assert.Equal("https://gateway.example/anthropic", claude.GetString("api-url", "https://api.anthropic.com"));
        Assert.Equal("https://platform.claude.com/v1/oauth/token", claude.GetString("token-url", "https://platform.claude.com/v1/oauth/token"));
        Assert.Equal(4, claude.GetInt("refresh-lead-hours", 1));
        Assert.True(claude.GetBool("cloak", false));
        Assert.Equal("fallback", config.SettingsFor("gemini").GetString("api-url", "fallback"));
        Assert.Equal("fallback", config.SettingsFor("no-such-plugin").GetString("api-url", "fallback"));
        Assert.DoesNotContain("providers", config.UnknownKeys);
    }

    [Fact]
    public void A_routing_plugin_reads_a_top_level_block()
    {
        var amp = ConfigLoader.Parse(Yaml).SettingsFor("amp").Section("ampcode");
        Assert.Equal("https://ampcode.example", amp.GetProperty("upstream-url").GetString());
        Assert.Equal("gemini-2.5-pro", amp.GetProperty("model-mappings")[0].GetProperty("to").GetString());
    }

    [Fact]
    public void Without_a_config_file_every_plugin_gets_empty_settings()
    {
        var settings = ConfigLoader.Defaults().SettingsFor("claude");
        Assert.Equal("d", settings.GetString("api-url", "d"));
    }
}
