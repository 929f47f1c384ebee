using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Plugins;

public sealed class SwapUnderLoadTests
{
    [Fact]
    public async Task Plugin_swaps_and_config_reloads_under_concurrent_load_fail_no_request()
    {
        await using var server = await TestServer.StartAsync("api-keys: [\"load-key\"]\n", root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential());
        }, clientKey: "load-key");
        var builds = Enumerable.Range(2, 5).Select(v => (Version: $"{v}.0.0", Dll: EchoPlugin.Compile($"{v}.0.0"))).ToList();
        var failures = new ConcurrentQueue<string>();
        var servedBy = new ConcurrentDictionary<string, int>();
        var stop = new CancellationTokenSource();

        // Four clients send requests (passthrough and translated, streaming and not) until the changes are done.
        var clients = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; n < 100_000 && !stop.IsCancellationRequested; n++)
            {
                var (path, body) = ((worker + n) % 3) switch
                {
                    0 => ("/v1/chat/completions", """{"model":"echo-model","messages":[{"role":"user","content":"hi"}]}"""),
                    1 => ("/v1/messages", """{"model":"echo-model","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"""),
                    _ => ("/v1/messages", """{"model":"echo-model","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
                };
                using var response = await server.PostJsonAsync(path, body);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode != 200 || text.Contains("\"error\"")) failures.Enqueue($"{path}: {(int)response.StatusCode} {text}");
                var version = path == "/v1/chat/completions" ? (string?)JsonNode.Parse(text)?["served_by"] : text.Contains("echo ") ? "translated" : null;
                servedBy.AddOrUpdate(version ?? "?", 1, (_, c) => c + 1);
            }
        })).ToList();

        // Meanwhile: five plugin swaps, each followed by a config rewrite that keeps the client key.
        foreach (var (version, dll) in builds)
        {
            TestPluginCompiler.Deploy(server.PluginsFolder, "TestEcho", dll);
            await TestServer.EventuallyAsync(() => Task.FromResult(server.Server.Plugins.Current.Plugins.Any(p => p.Version == version)), $"{version} is loaded");
            // The clients must meet each version under load, not only the swap; on a slow machine a swap can outrun them.
            await TestServer.EventuallyAsync(() => Task.FromResult(servedBy.ContainsKey(version)), $"{version} served a request");
            await server.WriteConfigAsync($"api-keys: [\"load-key\", \"other-{version}\"]\n");
            await TestServer.EventuallyAsync(() => Task.FromResult(server.Server.Config.Config.ApiKeys.Contains($"other-{version}")), $"the config for {version} applies");
        }
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.True(servedBy.Values.Sum() >= 100, $"only {servedBy.Values.Sum()} requests ran during the changes");
        Assert.True(servedBy.Keys.Count(k => k.EndsWith(".0.0")) >= 2, $"served by: {string.Join(", ", servedBy.Keys)}");
        Assert.DoesNotContain("?", servedBy.Keys);
    }
}
