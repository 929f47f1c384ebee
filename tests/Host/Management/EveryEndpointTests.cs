namespace PluginProxy.Tests.Host.Management;

/// <summary>Every management route answers 401 without a key, 403 to a remote peer and to a locked-out address.</summary>
public sealed class EveryEndpointTests(EveryEndpointTests.Fixture fixture) : IClassFixture<EveryEndpointTests.Fixture>
{
    /// <summary>One server for the whole matrix (the answers do not depend on state).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal ManagementServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await ManagementServer.StartAsync();

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    public static readonly TheoryData<string, string> Routes = new()
    {
        { "GET", "/config" }, { "GET", "/config.yaml" }, { "PUT", "/config.yaml" },
        { "GET", "/debug" }, { "PUT", "/debug" }, { "PATCH", "/debug" }, { "GET", "/logging-to-file" }, { "PUT", "/logging-to-file" },
        { "GET", "/force-model-prefix" }, { "PUT", "/force-model-prefix" }, { "GET", "/disable-cooling" }, { "PUT", "/disable-cooling" },
        { "GET", "/quota-exceeded/switch-project" }, { "PUT", "/quota-exceeded/switch-project" },
        { "GET", "/quota-exceeded/switch-preview-model" }, { "PUT", "/quota-exceeded/switch-preview-model" },
        { "GET", "/request-retry" }, { "PUT", "/request-retry" }, { "GET", "/max-retry-interval" }, { "PUT", "/max-retry-interval" },
        { "GET", "/proxy-url" }, { "PUT", "/proxy-url" }, { "DELETE", "/proxy-url" },
        { "GET", "/routing/strategy" }, { "PUT", "/routing/strategy" },
        { "GET", "/api-keys" }, { "PUT", "/api-keys" }, { "PATCH", "/api-keys" }, { "DELETE", "/api-keys" },
        { "GET", "/gemini-api-key" }, { "PUT", "/gemini-api-key" }, { "PATCH", "/gemini-api-key" }, { "DELETE", "/gemini-api-key" },
        { "GET", "/claude-api-key" }, { "PUT", "/claude-api-key" }, { "PATCH", "/claude-api-key" }, { "DELETE", "/claude-api-key" },
        { "GET", "/codex-api-key" }, { "PUT", "/codex-api-key" }, { "PATCH", "/codex-api-key" }, { "DELETE", "/codex-api-key" },
        { "GET", "/vertex-api-key" }, { "PUT", "/vertex-api-key" }, { "PATCH", "/vertex-api-key" }, { "DELETE", "/vertex-api-key" },
        { "GET", "/openai-compatibility" }, { "PUT", "/openai-compatibility" }, { "PATCH", "/openai-compatibility" }, { "DELETE", "/openai-compatibility" },
        { "GET", "/oauth-excluded-models" }, { "PUT", "/oauth-excluded-models" }, { "PATCH", "/oauth-excluded-models" }, { "DELETE", "/oauth-excluded-models" },
        { "GET", "/oauth-model-alias" }, { "PUT", "/oauth-model-alias" }, { "PATCH", "/oauth-model-alias" }, { "DELETE", "/oauth-model-alias" },
        { "GET", "/ampcode" }, { "GET", "/ampcode/upstream-url" }, { "PUT", "/ampcode/upstream-url" }, { "DELETE", "/ampcode/upstream-url" },
        { "GET", "/ampcode/upstream-api-key" }, { "PUT", "/ampcode/upstream-api-key" }, { "DELETE", "/ampcode/upstream-api-key" },
        { "GET", "/ampcode/restrict-management-to-localhost" }, { "PUT", "/ampcode/restrict-management-to-localhost" },
        { "GET", "/ampcode/force-model-mappings" }, { "PUT", "/ampcode/force-model-mappings" },
        { "GET", "/ampcode/model-mappings" }, { "PUT", "/ampcode/model-mappings" }, { "PATCH", "/ampcode/model-mappings" }, { "DELETE", "/ampcode/model-mappings" },
        { "GET", "/ampcode/upstream-api-keys" }, { "PUT", "/ampcode/upstream-api-keys" }, { "PATCH", "/ampcode/upstream-api-keys" }, { "DELETE", "/ampcode/upstream-api-keys" },
        { "GET", "/auth-files" }, { "POST", "/auth-files" }, { "DELETE", "/auth-files" }, { "GET", "/auth-files/models" },
        { "GET", "/auth-files/download" }, { "PATCH", "/auth-files/status" },
        { "GET", "/cooldowns" }, { "DELETE", "/cooldowns" }, { "POST", "/reset-quota" },
        { "GET", "/claude-auth-url" }, { "GET", "/get-auth-status" }, { "POST", "/oauth-callback" },
        { "GET", "/logs" }, { "DELETE", "/logs" }, { "GET", "/request-error-logs" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Without_a_key_is_401_and_from_a_remote_peer_is_403(string method, string path)
    {
        var server = fixture.Server;
        // Each route gets its own local address (127.0.0.0/8), so the failures of one never add up to a lockout of another.
        var index = Routes.ToList().FindIndex(r => (string)r[0] == method && (string)r[1] == path);
        var local = $"127.0.{index / 250}.{index % 250 + 2}";
        var missing = await server.SendAsync(new HttpMethod(method), path, "{}", key: null, peer: local);
        Assert.Equal(401, missing.Status);
        Assert.Equal("missing management key", (string?)missing.Body!["error"]);
        var remote = await server.SendAsync(new HttpMethod(method), path, "{}", peer: "198.51.100.3");
        Assert.Equal(403, remote.Status);
        Assert.Equal("remote management disabled", (string?)remote.Body!["error"]);
    }

    [Fact]
    public async Task Every_route_is_refused_to_a_locked_out_address_even_with_the_key()
    {
        await using var server = await ManagementServer.StartAsync();
        for (var i = 0; i < 5; i++) await server.GetAsync("/config", key: "wrong");
        foreach (var route in Routes)
        {
            var (status, body, _) = await server.SendAsync(new HttpMethod((string)route[0]), (string)route[1], "{}");
            Assert.Equal(403, status);
            Assert.StartsWith("IP banned", (string?)body!["error"]);
        }
    }
}
