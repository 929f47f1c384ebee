using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Plugins;

public sealed class HotSwapTests
{
    private const string ChatBody = """{"model":"echo-model","messages":[{"role":"user","content":"hi"}]}""";
    private const string SlowBody = """{"model":"echo-model","stream":true,"messages":[{"role":"user","content":"slow"}]}""";

    [Fact]
    public async Task Stream_in_flight_finishes_on_v1_while_v2_serves_new_requests_and_v1_is_collected()
    {
        var releaseFile = Path.Combine(Path.GetTempPath(), $"release-{Guid.NewGuid():N}");
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential(releaseFile: releaseFile));
        });
        var v1Context = WeakContextOf(server.Server.Plugins.Current);
        var unloaded = new System.Collections.Concurrent.ConcurrentQueue<string>();
        server.Server.Plugins.Unloaded += plugin => unloaded.Enqueue(plugin.Version);
        Assert.Equal("1.0.0", await ServedByAsync(server));

        // Start a slow stream on v1 and read its first event, so v1 is provably serving it.
        using var streaming = await server.PostJsonAsync("/v1/chat/completions", SlowBody, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await streaming.Content.ReadAsStreamAsync());
        Assert.Equal("""data: {"v":"1.0.0 start"}""", await reader.ReadLineAsync());

        // Replace the DLL in place with v2 while the stream is open.
        TestPluginCompiler.Deploy(server.PluginsFolder, "TestEcho", EchoPlugin.Compile("2.0.0"));
        await TestServer.EventuallyAsync(async () => await ServedByAsync(server) == "2.0.0", "v2 answers new requests");
        Assert.Empty(unloaded); // v1 must stay loaded while its stream runs

        // Let v1 finish: the rest of the stream still comes from v1.
        await File.WriteAllTextAsync(releaseFile, "go");
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("""data: {"v":"1.0.0 end"}""", rest);
        Assert.EndsWith("data: [DONE]\n\n", rest);
        streaming.Dispose();

        // With its last request gone, v1's load context is unloaded and collected.
        await TestServer.EventuallyAsync(() => Task.FromResult(unloaded.Contains("1.0.0")), "v1 is unloaded");
        await TestServer.EventuallyAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Task.FromResult(!v1Context.IsAlive);
        }, "the v1 load context is collected");
        File.Delete(releaseFile);
    }

    [Fact]
    public async Task Corrupt_dll_replacing_a_plugin_is_logged_and_the_previous_version_keeps_serving()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        });
        var revision = server.Server.Plugins.Current.Revision;

        TestPluginCompiler.Deploy(server.PluginsFolder, "TestEcho", "MZ this is not a .NET assembly"u8.ToArray());
        // Two log lines, written one after the other: wait for the second, or the assertion races the logger.
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("Plugin TestEcho: version 1.0.0 keeps serving")), "the failure is logged");

        Assert.Contains("not a valid .NET assembly", server.Logs);
        Assert.Contains("Plugin TestEcho: version 1.0.0 keeps serving", server.Logs);
        Assert.Equal(revision, server.Server.Plugins.Current.Revision);
        Assert.Equal("1.0.0", await ServedByAsync(server));
    }

    [Fact]
    public async Task Incompatible_assembly_without_plugin_types_is_logged_and_not_loaded()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        });

        var library = TestPluginCompiler.Compile("NotAPlugin", "1.0.0", "namespace NotAPlugin; public sealed class Helper { }");
        TestPluginCompiler.Deploy(server.PluginsFolder, "NotAPlugin", library);
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("Plugin NotAPlugin failed to load")), "the failure is logged");

        Assert.Contains("contains no public IProviderPlugin or IRoutingPlugin type", server.Logs);
        Assert.DoesNotContain(server.Server.Plugins.Current.Plugins, p => p.Name == "NotAPlugin");
        Assert.Equal("1.0.0", await ServedByAsync(server));
    }

    [Fact]
    public async Task Deleting_a_plugin_folder_removes_its_provider_and_models()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        });
        Assert.Single((await server.GetJsonAsync("/v1/models"))["data"]!.AsArray());

        Directory.Delete(Path.Combine(server.PluginsFolder, "TestEcho"), recursive: true);

        await TestServer.EventuallyAsync(async () => (await server.GetJsonAsync("/v1/models"))["data"]!.AsArray().Count == 0, "the model disappears");
        using var response = await server.PostJsonAsync("/v1/chat/completions", ChatBody);
        Assert.Equal(404, (int)response.StatusCode);
    }

    [Fact]
    public async Task A_new_plugin_folder_is_picked_up_while_running()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential()));
        Assert.Empty(server.Server.Plugins.Current.Plugins);

        TestPluginCompiler.Deploy(server.PluginsFolder, "TestEcho", EchoPlugin.Compile("1.0.0"));

        await TestServer.EventuallyAsync(async () =>
        {
            var health = await server.GetJsonAsync("/healthz");
            return health["plugins"]!["loaded"]!.AsArray().Any(p => (string?)p!["version"] == "1.0.0");
        }, "healthz lists the plugin");
        Assert.Equal("1.0.0", await ServedByAsync(server));
    }

    [Fact]
    public async Task Two_plugins_cannot_claim_one_credential_type_whatever_their_folder_order()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        });

        // "AEcho" sorts before "TestEcho" and claims the same "echo" type.
        TestPluginCompiler.Deploy(server.PluginsFolder, "AEcho", EchoPlugin.Compile("9.0.0", "AEcho"));
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("Plugin AEcho failed to load: credential type 'echo' is already provided by plugin 'TestEcho'")), "the conflict is logged");
        Assert.Equal("1.0.0", await ServedByAsync(server));

        // Once the owner is gone, the other one may take over.
        Directory.Delete(Path.Combine(server.PluginsFolder, "TestEcho"), recursive: true);
        await TestServer.EventuallyAsync(async () => await ServedByAsync(server) == "9.0.0", "AEcho serves");
    }

    private static async Task<string?> ServedByAsync(TestServer server)
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", ChatBody);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        return (string?)body?["served_by"];
    }

    // Separate, non-inlined method so no strong reference to the context survives in the test's frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference WeakContextOf(PluginSet set) => new(set.Plugins.Single().LoadContext);
}
