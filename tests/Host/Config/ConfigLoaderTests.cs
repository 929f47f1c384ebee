using PluginProxy.Host.Config;

namespace PluginProxy.Tests.Host.Config;

public sealed class ConfigLoaderTests
{
    [Fact]
    public void Reads_cliproxyapi_keys_and_reports_unknown_ones()
    {
        var loaded = ConfigLoader.Parse("""
            host: "127.0.0.1"
            port: 9000
            api-keys: ["a", "b"]
            auth-dir: "~/x"
            debug: true
            logging-to-file: true
            proxy-url: "socks5://u:p@127.0.0.1:1080"
            request-retry: 3
            max-retry-interval: 30
            routing:
              strategy: fill-first
            streaming:
              keepalive-seconds: 15
              bootstrap-retries: 2
            openai-compatibility:
              - name: OpenRouter
                base-url: https://example.test/v1
                api-key-entries: [{api-key: k1, proxy-url: "http://127.0.0.1:3128"}]
                models: [{name: up, alias: down}]
            plugins:
              folder: ./p
              exclude: ["Amp/**"]
            some-future-key: 1
            ws-auth: true
            """);

        var c = loaded.Config;
        Assert.Equal(9000, c.Port);
        Assert.Equal(["a", "b"], c.ApiKeys);
        Assert.True(c.Debug);
        Assert.True(c.LoggingToFile);
        Assert.Equal(3, c.RequestRetry);
        Assert.Equal(30, c.MaxRetryInterval);
        Assert.Equal("fill-first", c.Routing.Strategy);
        Assert.Equal(15, c.Streaming.KeepaliveSeconds);
        Assert.Equal(2, c.Streaming.BootstrapRetries);
        Assert.Equal("down", c.OpenaiCompatibility[0].Models[0].Alias);
        Assert.Equal("k1", c.OpenaiCompatibility[0].ApiKeyEntries[0].ApiKey);
        Assert.Equal("./p", c.Plugins.Folder);
        Assert.Equal(["Amp/**"], c.Plugins.Exclude);
        Assert.True(c.WsAuth);
        Assert.Equal(["some-future-key"], loaded.UnknownKeys);
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("", "0.0.0.0")]
    [InlineData("::1", "::1")]
    public void Absent_host_binds_loopback_and_empty_host_binds_everything(string? host, string expected) =>
        Assert.Equal(expected, ConfigLoader.BindHost(new ProxyConfig { Host = host }));

    [Theory]
    [InlineData("host: \"0.0.0.0\"\n")]
    [InlineData("host: \"\"\napi-keys: []\n")]
    [InlineData("host: \"192.0.2.10\"\napi-keys: [\"  \"]\n")]
    public void A_public_bind_without_keys_is_refused_with_the_reason(string yaml)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Contains("api-keys is empty", e.Message);
    }

    [Theory]
    [InlineData("port: 70000\n", "port 70000")]
    [InlineData("max-body-size-mb: 4096\n", "max-body-size-mb must be between 1 and 1024")]
    [InlineData("timeouts:\n  first-byte-seconds: -1\n", "timeouts must not be negative")]
    [InlineData("routing:\n  strategy: random\n", "routing.strategy")]
    [InlineData("proxy-url: \"ftp://x\"\n", "proxy-url")]
    [InlineData("tls:\n  enable: true\n", "tls.cert")]
    [InlineData("api-keys: [\"unterminated\n", "line")]
    public void Invalid_files_are_rejected_with_a_message_that_says_where(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "config.yaml"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Blank_entries_in_api_keys_are_not_keys()
    {
        var loaded = ConfigLoader.Parse("api-keys:\n  -\n  - \"  \"\n  - \"real-key\"\n");
        Assert.Equal(["real-key"], loaded.Config.ApiKeys);
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse("host: \"0.0.0.0\"\napi-keys:\n  -\n"));
    }

    [Fact]
    public void Defaults_without_a_file_are_safe()
    {
        var c = ConfigLoader.Defaults().Config;
        Assert.Equal("127.0.0.1", ConfigLoader.BindHost(c));
        Assert.Equal(8317, c.Port);
        Assert.Empty(c.ApiKeys);
    }
}
