using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Credentials;

public sealed class CredentialReloadTests
{
    [Fact]
    public async Task New_credential_files_serve_without_restart_deleted_ones_stop_and_half_written_ones_wait()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0")));
        Assert.Empty(await ModelIdsAsync(server));
        var path = Path.Combine(server.AuthDir, "echo-a.json");

        // Half-written: not JSON yet, so not a credential.
        await File.WriteAllTextAsync(path, """{"type":"echo","access_tok""");
        await Task.Delay(800); // past the watcher's debounce: proving an absence needs a wait
        Assert.Empty(server.Server.Credentials.Current.All);
        Assert.Empty(await ModelIdsAsync(server));

        // Completed: usable without restart.
        await File.WriteAllTextAsync(path, EchoPlugin.Credential());
        await TestServer.EventuallyAsync(async () => (await ModelIdsAsync(server)).Contains(EchoPlugin.Model), "the credential serves its model");
        using (var response = await server.PostJsonAsync("/v1/chat/completions", """{"model":"echo-model","messages":[]}"""))
            Assert.Equal(200, (int)response.StatusCode);

        // Deleted: gone.
        File.Delete(path);
        await TestServer.EventuallyAsync(async () => (await ModelIdsAsync(server)).Count == 0, "the model disappears");
    }

    [Fact]
    public async Task A_rewrite_with_invalid_json_keeps_the_previous_version_of_the_credential()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        });
        Assert.Contains(EchoPlugin.Model, await ModelIdsAsync(server));

        await File.WriteAllTextAsync(Path.Combine(server.AuthDir, "echo.json"), "{ not json");
        await Task.Delay(800); // past the watcher's debounce: proving an absence needs a wait

        Assert.Single(server.Server.Credentials.Current.All);
        Assert.Contains(EchoPlugin.Model, await ModelIdsAsync(server));
    }

    [Fact]
    public async Task Server_writes_are_atomic_owner_only_and_do_not_trigger_a_reload()
    {
        await using var server = await TestServer.StartAsync();
        var before = server.Server.Credentials.Current.Revision;

        var record = await server.Server.Credentials.WriteAsync("written.json", new JsonObject { ["type"] = "echo", ["access_token"] = "t" });

        Assert.NotNull(record);
        var path = Path.Combine(server.AuthDir, "written.json");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(before + 1, server.Server.Credentials.Current.Revision);
        Assert.Empty(Directory.GetFiles(server.AuthDir, "*.tmp"));
        await Task.Delay(800); // the watcher sees the write; the hash matches, so nothing is republished
        Assert.Equal(before + 1, server.Server.Credentials.Current.Revision);
    }

    private static async Task<List<string>> ModelIdsAsync(TestServer server) =>
        [.. (await server.GetJsonAsync("/v1/models"))["data"]!.AsArray().Select(m => (string)m!["id"]!)];
}
