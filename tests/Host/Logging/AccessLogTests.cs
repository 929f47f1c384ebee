using System.Text;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Security;
using PluginProxy.Tests.Host.Management;
using PluginProxy.Tests.Support;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace PluginProxy.Tests.Host.Logging;

/// <summary>The access line written by <see cref="AccessLog"/> through the pipeline <see cref="LogSetup"/> builds.</summary>
public sealed class AccessLogTests
{
    private const string Secret = "sk-client-PATH-SECRET-91c3";
    private static readonly Usage Tokens = new() { InputTokens = 12, OutputTokens = 345 };

    [Fact]
    public void The_event_carries_the_properties_the_MEL_line_had()
    {
        var capture = new Capture();
        using var logger = new LoggerConfiguration().WriteTo.Sink(capture).CreateLogger();
        new AccessLog(logger).Write("daa6f478", "GET", "/healthz", 200, 41.4714, null, null, null, "0HNQIJ569OCBT");

        var e = Assert.Single(capture.Events);
        Assert.Equal(LogEventLevel.Information, e.Level);
        Assert.Equal(AccessLog.Template, e.MessageTemplate.Text);
        Assert.Null(e.Exception);
        // As Serilog.Extensions.Logging bound the [LoggerMessage] state (numbers stay numbers), then EventId, the category, Kestrel's scope.
        Assert.Equal(["ProxyRequestId", "Method", "Path", "Status", "Elapsed", "Provider", "Credential", "Tokens", "EventId", "SourceContext", "ConnectionId"], e.Properties.Keys);
        Assert.Equal("\"daa6f478\" \"GET\" \"/healthz\" 200 41.4714 \"-\" \"-\" \"-\" { Id: 1330097018, Name: \"LogRequest\" } \"PluginProxy.Host.Logging.RequestLogMiddleware\" \"0HNQIJ569OCBT\"",
            string.Join(" ", e.Properties.Values.Select(v => v.ToString())));
        Assert.Equal(200, ((ScalarValue)e.Properties["Status"]).Value);
        Assert.Equal(41.4714, ((ScalarValue)e.Properties["Elapsed"]).Value);
    }

    [Fact]
    public void Nothing_is_written_when_Information_is_off()
    {
        var capture = new Capture();
        using var logger = new LoggerConfiguration().MinimumLevel.Warning().WriteTo.Sink(capture).CreateLogger();
        var log = new AccessLog(logger);
        Assert.False(log.IsEnabled);
        log.Write("daa6f478", "GET", "/healthz", 200, 1, null, null, null, null);
        Assert.Empty(capture.Events);
    }

    [Fact]
    public async Task A_secret_in_the_path_is_masked_in_the_console_and_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("pluginproxy-accesslog-").FullName;
        try
        {
            var configPath = Path.Combine(dir, "config.yaml");
            await File.WriteAllTextAsync(configPath, $"api-keys: [\"{Secret}\"]\nlogging-to-file: true\n");
            var loaded = ConfigLoader.LoadFile(configPath);
            var redactor = new SecretRedactor();
            redactor.Update(loaded.Config, CredentialSnapshot.Empty, loaded.Json);
            var console = new MemoryStream();
            using (var logs = new LogSetup(redactor, console: f => new BatchedConsoleSink(f, console, leaveOpen: true)))
            {
                logs.Apply(loaded);
                logs.AccessLog.Write("0a1b2c3d", "GET", $"/v1/models/{Secret}", 404, 2.4, null, Secret + "-label", Tokens, "0HN1");
            } // disposing drains the console writer and closes the file

            var consoleText = Encoding.UTF8.GetString(console.ToArray());
            var fileText = string.Concat(Directory.GetFiles(Path.Combine(dir, "logs"), "main*.log").Select(File.ReadAllText));
            foreach (var text in new[] { consoleText, fileText })
            {
                Assert.Matches(new Regex(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INF\] PluginProxy\.Host\.Logging\.RequestLogMiddleware: \[0a1b2c3d\] GET /v1/models/\[REDACTED\] -> 404 in 2 ms provider=- credential=\[REDACTED\]-label tokens=12/345\r?\n$"), text);
                Assert.DoesNotContain(Secret, text);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Debug_false_keeps_Information_and_the_level_switch_follows_the_config()
    {
        var lines = new Capture();
        using var logs = new LogSetup(new SecretRedactor(), console: _ => lines);
        logs.Apply(ConfigLoader.Parse("debug: false\n"));
        Assert.True(logs.AccessLog.IsEnabled);
        logs.AccessLog.Write("00000001", "GET", "/a", 200, 1, null, null, null, null);
        logs.Logger.ForContext(Constants.SourceContextPropertyName, "PluginProxy.Test").Debug("debug one");

        logs.Apply(ConfigLoader.Parse("debug: true\n"));
        logs.AccessLog.Write("00000002", "GET", "/b", 200, 1, null, null, null, null);
        logs.Logger.ForContext(Constants.SourceContextPropertyName, "PluginProxy.Test").Debug("debug two");

        logs.Apply(ConfigLoader.Parse("debug: false\n"));
        logs.Logger.ForContext(Constants.SourceContextPropertyName, "PluginProxy.Test").Debug("debug three");

        Assert.Equal(["[00000001] GET /a", "[00000002] GET /b", "debug two"],
            lines.Events.Select(e => e.RenderMessage()).Select(m => m.Replace("\"", "")).Select(m => m.Split(" -> ")[0]));
    }

    [Fact]
    public async Task A_served_request_is_logged_with_debug_off_and_its_id_is_the_response_header()
    {
        await using var server = await TestServer.StartAsync("debug: false\n");
        using var response = await server.Client.GetAsync("/healthz");
        var id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches("^[0-9a-f]{8}$", id);
        await TestServer.EventuallyAsync(() => Task.FromResult(server.Logs.Contains($"[{id}] GET /healthz -> ")), "the access line is logged");
        Assert.Matches(new Regex($@"\[Information\] \[{id}\] GET /healthz -> {(int)response.StatusCode} in \d+ ms provider=- credential=- tokens=-"), server.Logs);
    }

    [Fact]
    public async Task The_management_log_endpoint_sees_access_lines()
    {
        await using var server = await ManagementServer.StartAsync("logging-to-file: true");
        using var response = await server.Server.Client.GetAsync("/healthz");
        var id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        string? line = null;
        await TestServer.EventuallyAsync(async () =>
        {
            var (_, body, _) = await server.SendAsync(HttpMethod.Get, "/logs");
            line = body?["lines"]?.AsArray().Select(l => (string?)l).FirstOrDefault(l => l!.Contains($"[{id}]"));
            return line is not null;
        }, "the access line reaches the log file");
        Assert.Matches(new Regex($@"^\[\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INF\] PluginProxy\.Host\.Logging\.RequestLogMiddleware: \[{id}\] GET /healthz -> \d+ in \d+ ms provider=- credential=- tokens=-$"), line!);
    }

    private sealed class Capture : ILogEventSink
    {
        private readonly List<LogEvent> _events = [];
        public IReadOnlyList<LogEvent> Events { get { lock (_events) return [.. _events]; } }
        public void Emit(LogEvent logEvent) { lock (_events) _events.Add(logEvent); }
    }
}
