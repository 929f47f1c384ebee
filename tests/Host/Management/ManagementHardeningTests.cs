using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Config;
using PluginProxy.Host.Management;

namespace PluginProxy.Tests.Host.Management;

/// <summary>Defects found in review of the management API: each test fails without its fix.</summary>
public sealed class ManagementHardeningTests
{
    [Theory]
    [InlineData("123456", "123456")]
    [InlineData("true", "true")]
    [InlineData("1.0", "1.0")]
    [InlineData("'quoted'", "quoted")]
    public void An_unquoted_numeric_or_boolean_key_is_hashed_from_its_raw_text(string yamlValue, string key)
    {
        var hashed = ManagementSecret.HashInText($"remote-management:\n  secret-key: {yamlValue}  # keep\n");
        Assert.NotNull(hashed);
        var stored = new YamlEditor(hashed).ScalarText(ManagementSecret.Path);
        Assert.True(ManagementSecret.IsHash(stored));
        Assert.True(ManagementSecret.Verify(key, stored!));
        Assert.Contains("  # keep", hashed);
        Assert.Null(ManagementSecret.HashInText(hashed)); // nothing left to do: no write on the next reload
    }

    [Fact]
    public async Task Hashing_on_reload_writes_only_when_there_was_a_plaintext_key()
    {
        var path = Path.Combine(Path.GetTempPath(), $"secfix-{Guid.NewGuid():N}.yaml");
        try
        {
            await File.WriteAllTextAsync(path, "remote-management:\n  secret-key: 123456\n");
            var store = new ConfigStore(ConfigLoader.Parse(await File.ReadAllTextAsync(path), path));
            var published = 0;
            store.Changed += (_, _) => published++;
            var writer = new ConfigWriter(store, NullLogger<ConfigWriter>.Instance);
            Assert.True(await writer.HashSecretAsync());
            Assert.True(ManagementSecret.IsHash(store.Config.RemoteManagement.SecretKey));
            var after = await File.ReadAllTextAsync(path);
            Assert.False(await writer.HashSecretAsync());
            Assert.Equal(after, await File.ReadAllTextAsync(path));
            Assert.Equal(1, published);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class ManagementLockoutHardeningTests
{
    [Fact]
    public async Task Requests_without_a_key_never_lock_the_admin_out()
    {
        await using var server = await ManagementServer.StartAsync();
        for (var i = 0; i < 12; i++) Assert.Equal(401, (await server.GetAsync("/debug", key: null)).Status);
        Assert.Equal(200, (await server.GetAsync("/debug")).Status);
    }

    [Fact]
    public void An_attempt_is_counted_before_its_check_so_only_five_guesses_get_through()
    {
        var lockout = new ManagementLockout(TimeProvider.System);
        var allowed = Enumerable.Range(0, 8).Count(_ => lockout.TryAttempt("10.0.0.1"));
        Assert.Equal(ManagementLockout.MaxFailures, allowed);
        Assert.NotNull(lockout.BannedFor("10.0.0.1"));
    }

    [Fact]
    public async Task A_key_longer_than_72_bytes_is_not_hashed_and_leaves_the_api_off()
    {
        var longKey = new string('k', 73);
        Assert.Null(ManagementSecret.HashInText($"remote-management:\n  secret-key: {longKey}\n"));
        await using var server = await ManagementServer.StartAsync(secret: longKey);
        Assert.Equal(404, (await server.GetAsync("/debug", key: longKey)).Status);
        Assert.Contains(longKey, server.ConfigText); // left as it was, not truncated into a hash
    }

    [Fact]
    public void A_presented_key_longer_than_72_bytes_never_matches_a_hash()
    {
        var key = new string('a', 72);
        var hash = ManagementSecret.Hash(key);
        Assert.False(ManagementSecret.Verify(key + "extra", hash));
        Assert.True(ManagementSecret.Verify(key, hash));
    }
}

public sealed class ManagementBodyLimitTests
{
    [Fact]
    public async Task A_config_yaml_over_4_MiB_is_refused_with_413_and_the_file_is_untouched()
    {
        await using var server = await ManagementServer.StartAsync();
        var before = server.ConfigText;
        var huge = "port: 8317\n# " + new string('x', 4 * 1024 * 1024) + "\n";
        var (status, body, _) = await server.SendAsync(HttpMethod.Put, "/config.yaml", huge);
        Assert.Equal(413, status);
        Assert.Contains("larger than 4 MiB", (string?)body!["error"]);
        Assert.Equal(before, server.ConfigText);
    }

    [Fact]
    public async Task A_raw_auth_file_over_1_MiB_is_413_and_a_name_with_a_control_character_is_400()
    {
        await using var server = await ManagementServer.StartAsync();
        var big = "{\"type\":\"claude\",\"pad\":\"" + new string('x', 1024 * 1024) + "\"}";
        Assert.Equal(413, (await server.SendAsync(HttpMethod.Post, "/auth-files?name=big.json", big)).Status);
        Assert.Equal(400, (await server.SendAsync(HttpMethod.Post, "/auth-files?name=a%00.json", "{\"type\":\"claude\"}")).Status);
    }
}

public sealed class ConfigWriterRefusalTests
{
    [Fact]
    public async Task An_edit_the_yaml_editor_refuses_is_a_409_and_nothing_is_written()
    {
        var path = Path.Combine(Path.GetTempPath(), $"secfix-{Guid.NewGuid():N}.yaml");
        try
        {
            const string text = "port: 8317\nrouting: {strategy: round-robin}\n";
            await File.WriteAllTextAsync(path, text);
            var writer = new ConfigWriter(new ConfigStore(ConfigLoader.Parse(text, path)), NullLogger<ConfigWriter>.Instance);
            var reply = await writer.EditAsync(editor =>
            {
                editor.Remove(["routing", "strategy"]); // not on a line of its own: refused
                return null;
            }, "routing.strategy");
            Assert.Equal(409, reply.Status);
            Assert.Equal(text, await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
