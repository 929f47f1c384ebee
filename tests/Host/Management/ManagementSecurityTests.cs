using PluginProxy.Host.Management;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Management;

public sealed class ManagementSecurityTests
{
    [Fact]
    public async Task Without_a_secret_key_every_management_path_is_a_bare_404()
    {
        await using var server = await TestServer.StartAsync("debug: false\n");
        using var response = await server.Client.SendAsync(ManagementServer.Request(HttpMethod.Get, "/config"));
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_plaintext_key_is_replaced_by_its_bcrypt_hash_on_startup_and_the_comments_stay()
    {
        await using var server = await ManagementServer.StartAsync();
        var text = server.ConfigText;
        Assert.DoesNotContain(ManagementServer.Key, text);
        Assert.Contains("# management test config\n", text);
        Assert.Contains("  # who may manage remotely\n", text);
        Assert.Matches(@"secret-key: ""?\$2[aby]\$10\$[./A-Za-z0-9]{53}""?  # replaced by its hash at startup", text);
        Assert.True(ManagementSecret.IsHash(server.Server.Server.Config.Config.RemoteManagement.SecretKey));
        // The hashed key still opens the API, with either header.
        Assert.Equal(200, (await server.GetAsync("/debug")).Status);
        Assert.Equal(200, (await server.SendAsync(HttpMethod.Get, "/debug", header: true)).Status);
    }

    [Fact]
    public async Task A_missing_or_wrong_key_is_401_with_CLIProxyAPIs_messages()
    {
        await using var server = await ManagementServer.StartAsync();
        var missing = await server.GetAsync("/config", key: null);
        Assert.Equal(401, missing.Status);
        Assert.Equal("missing management key", (string?)missing.Body!["error"]);
        var wrong = await server.GetAsync("/config", key: "not-the-key");
        Assert.Equal(401, wrong.Status);
        Assert.Equal("invalid management key", (string?)wrong.Body!["error"]);
    }

    [Fact]
    public async Task A_remote_peer_is_refused_without_allow_remote_and_forwarding_headers_change_nothing()
    {
        await using var server = await ManagementServer.StartAsync();
        var remote = await server.GetAsync("/config", peer: "203.0.113.7");
        Assert.Equal(403, remote.Status);
        Assert.Equal("remote management disabled", (string?)remote.Body!["error"]);

        // A remote peer claiming to be local through X-Forwarded-For / X-Real-IP is still remote.
        var spoofed = ManagementServer.Request(HttpMethod.Get, "/config", peer: "203.0.113.7");
        spoofed.Headers.Add("X-Forwarded-For", "127.0.0.1");
        spoofed.Headers.Add("X-Real-IP", "127.0.0.1");
        using (var response = await server.Server.Client.SendAsync(spoofed)) Assert.Equal(403, (int)response.StatusCode);

        // And a local peer claiming to be remote is still local.
        var local = ManagementServer.Request(HttpMethod.Get, "/config");
        local.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using (var response = await server.Server.Client.SendAsync(local)) Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task With_allow_remote_a_remote_peer_with_the_key_gets_in()
    {
        await using var server = await ManagementServer.StartAsync(allowRemote: true);
        Assert.Equal(200, (await server.GetAsync("/config", peer: "203.0.113.7")).Status);
        Assert.Equal(401, (await server.GetAsync("/config", key: "wrong", peer: "203.0.113.7")).Status);
    }

    [Fact]
    public async Task Five_failures_lock_an_address_out_for_30_minutes_loopback_included_and_other_addresses_are_unaffected()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await ManagementServer.StartAsync(allowRemote: true, clock: clock);
        for (var i = 0; i < 5; i++) Assert.Equal(401, (await server.GetAsync("/config", key: "guess-" + i)).Status);

        var banned = await server.GetAsync("/config");
        Assert.Equal(403, banned.Status);
        Assert.StartsWith("IP banned due to too many failed attempts. Try again in 30m", (string?)banned.Body!["error"]);
        Assert.Equal(200, (await server.GetAsync("/config", peer: "203.0.113.7")).Status);

        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(403, (await server.GetAsync("/config")).Status);
        clock.Advance(TimeSpan.FromMinutes(1.5));
        Assert.Equal(200, (await server.GetAsync("/config")).Status);
    }

    [Fact]
    public async Task A_success_resets_the_failure_count()
    {
        await using var server = await ManagementServer.StartAsync();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 4; i++) Assert.Equal(401, (await server.GetAsync("/debug", key: "guess")).Status);
            Assert.Equal(200, (await server.GetAsync("/debug")).Status);
        }
    }

    [Fact]
    public async Task The_key_never_reaches_the_log()
    {
        await using var server = await ManagementServer.StartAsync();
        await server.GetAsync("/config");
        await server.GetAsync("/config", key: ManagementServer.Key + "x");
        await server.PutAsync("/debug", """{"value":true}""");
        Assert.Contains("/v0/management/config", server.Server.Logs);
        Assert.DoesNotContain(ManagementServer.Key, server.Server.Logs);
    }

    [Fact]
    public void Verify_accepts_the_key_against_its_hash_and_plaintext_and_nothing_else()
    {
        var hash = ManagementSecret.Hash("k-1");
        Assert.True(ManagementSecret.Verify("k-1", hash));
        Assert.True(ManagementSecret.Verify("k-1", hash)); // the cached path
        Assert.False(ManagementSecret.Verify("k-2", hash));
        Assert.True(ManagementSecret.Verify("plain", "plain"));
        Assert.False(ManagementSecret.Verify("plain", "plainer"));
        Assert.False(ManagementSecret.Verify("x", "$2b$10$notavalidhashnotavalidhashnotavalidhashnotavalidhash12"));
    }
}
