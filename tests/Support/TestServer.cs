using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PluginProxy.Host.Server;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace PluginProxy.Tests.Support;

/// <summary>
/// The real server on an ephemeral loopback port, in a temporary folder with its own config.yaml, auth-dir and
/// plugins folder. Log lines (after redaction) are captured for assertions.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly LogCapture _logs;

    private TestServer(ProxyServer server, string root, LogCapture logs, string? clientKey)
    {
        Server = server;
        Root = root;
        _logs = logs;
        Client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
        if (clientKey is not null) Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", clientKey);
    }

    internal ProxyServer Server { get; }
    public string Root { get; }
    public HttpClient Client { get; }
    public Uri Address => Server.Address;
    public string ConfigPath => Path.Combine(Root, "config.yaml");
    public string AuthDir => Path.Combine(Root, "auths");
    public string PluginsFolder => Path.Combine(Root, "plugins");

    /// <summary>Everything logged so far, rendered.</summary>
    public string Logs => _logs.Text;

    /// <summary>Creates the folder layout, lets the test populate it, then starts the server.</summary>
    /// <param name="configYaml">config.yaml content; <c>auth-dir</c> is appended.</param>
    /// <param name="prepare">Called with the root folder before start (drop plugins and credentials here).</param>
    /// <param name="clientKey">Key the <see cref="Client"/> sends.</param>
    /// <param name="pluginsFolder">Plugins folder to use instead of the temp one (the built-in plugins).</param>
    /// <param name="clock">The server's clock (cooldowns, expiry); the system clock by default.</param>
    /// <param name="beforePipeline">Middleware run before everything else (for example a fake peer address).</param>
    public static async Task<TestServer> StartAsync(string configYaml = "", Action<string>? prepare = null, string? clientKey = null, string? pluginsFolder = null,
        TimeProvider? clock = null, Action<Microsoft.AspNetCore.Builder.IApplicationBuilder>? beforePipeline = null)
    {
        var root = Directory.CreateTempSubdirectory("pluginproxy-test-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "auths"));
        Directory.CreateDirectory(Path.Combine(root, "plugins"));
        await File.WriteAllTextAsync(Path.Combine(root, "config.yaml"), configYaml + "\nauth-dir: \"" + Path.Combine(root, "auths") + "\"\n");
        prepare?.Invoke(root);
        var logs = new LogCapture();
        var server = await ProxyServer.StartAsync(new ServerOptions
        {
            ConfigPath = Path.Combine(root, "config.yaml"),
            PluginsFolder = pluginsFolder ?? Path.Combine(root, "plugins"),
            Port = 0,
            LogSink = logs,
            Clock = clock,
            BeforePipeline = beforePipeline,
        });
        return new TestServer(server, root, logs, clientKey);
    }

    /// <summary>Rewrites config.yaml (auth-dir kept), as a user editing it would.</summary>
    public Task WriteConfigAsync(string yaml) =>
        File.WriteAllTextAsync(ConfigPath, yaml + "\nauth-dir: \"" + AuthDir + "\"\n");

    public async Task<JsonObject> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public async Task<HttpResponseMessage> PostJsonAsync(string path, string json, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") }, completion);

    /// <summary>Polls until the condition holds; fails after <paramref name="timeoutSeconds"/>. For eventually-consistent reloads, not timing.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int timeoutSeconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail($"timed out waiting until {what}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class LogCapture : ILogEventSink
    {
        // Rendered like the console output: strings without quotes.
        private static readonly MessageTemplateTextFormatter Format = new("[{Level}] {Message:lj} {Exception}");
        private readonly ConcurrentQueue<string> _lines = new();

        public string Text => string.Join("\n", _lines);

        public void Emit(LogEvent logEvent)
        {
            using var text = new StringWriter();
            Format.Format(logEvent, text);
            _lines.Enqueue(text.ToString());
        }
    }
}
