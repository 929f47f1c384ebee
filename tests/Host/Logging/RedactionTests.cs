using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Logging;

public sealed class RedactionTests
{
    private const string ClientKey = "sk-client-SECRET-7d1e9";
    private const string Token = "ya29.TOKEN-SECRET-a5f3c";

    [Fact]
    public async Task Logs_never_contain_the_client_key_or_credential_tokens()
    {
        await using var server = await TestServer.StartAsync($"api-keys: [\"{ClientKey}\"]\nlogging-to-file: true\ndebug: true\n", root =>
        {
            TestPluginCompiler.Deploy(Path.Combine(root, "plugins"), "TestEcho", EchoPlugin.Compile("1.0.0"));
            File.WriteAllText(Path.Combine(root, "auths", "echo.json"), EchoPlugin.Credential(accessToken: Token));
        }, clientKey: ClientKey);

        // The key in the query string, a normal request, a rejected key, and a plugin that puts the token in an exception.
        using (var r = await server.Client.GetAsync($"/v1/models?key={ClientKey}")) Assert.Equal(200, (int)r.StatusCode);
        using (var r = await server.PostJsonAsync("/v1/chat/completions", """{"model":"echo-model","messages":[]}""")) Assert.Equal(200, (int)r.StatusCode);
        using (var r = await server.PostJsonAsync($"/v1/chat/completions?key={ClientKey}-wrong", """{"model":"echo-model","messages":[]}""")) { }
        using (var r = await server.PostJsonAsync("/v1/chat/completions", """{"model":"echo-model","messages":[],"note":"throw-secret"}"""))
        {
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(502, (int)r.StatusCode);
            Assert.DoesNotContain(Token, body);
            Assert.Contains("[REDACTED]", body);
        }

        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains("careless plugin leaked")), "the plugin failure is logged");
        var file = await ReadLogFilesAsync(Path.Combine(server.Root, "logs"));
        foreach (var logs in new[] { server.Logs, file })
        {
            Assert.Contains("POST /v1/chat/completions", logs);
            Assert.DoesNotContain(ClientKey, logs);
            Assert.DoesNotContain(Token, logs);
        }
        Assert.Contains("careless plugin leaked [REDACTED]", server.Logs);
    }

    private static async Task<string> ReadLogFilesAsync(string dir)
    {
        await TestServer.EventuallyAsync(() => Task.FromResult(Directory.Exists(dir) && Directory.GetFiles(dir, "main*.log").Length > 0), "the log file exists");
        var text = "";
        foreach (var path in Directory.GetFiles(dir, "main*.log"))
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            text += await new StreamReader(stream).ReadToEndAsync();
        }
        return text;
    }
}
