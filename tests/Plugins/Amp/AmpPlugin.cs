using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>
/// The built Amp plugin (from the test output's plugins folder) loaded into the default context, so its decisions can
/// be table-tested through the public <see cref="IRoutingPlugin"/> contract without a server.
/// </summary>
internal static class AmpPlugin
{
    public const string FolderName = "PluginProxy.Plugins.Amp";

    private static readonly Lazy<Assembly> Assembly = new(() =>
        System.Reflection.Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "plugins", FolderName, FolderName + ".dll")));

    private static readonly Lazy<ConcurrentQueue<string>> CapturedWarnings = new(() =>
    {
        var queue = new ConcurrentQueue<string>();
        var sink = Assembly.Value.GetType("PluginProxy.Plugins.Amp.Diagnostics.AmpWarnings", throwOnError: true)!
            .GetProperty("Sink", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        sink.SetValue(null, new Action<string>(queue.Enqueue));
        return queue;
    });

    public static IRoutingPlugin Create() =>
        (IRoutingPlugin)Activator.CreateInstance(Assembly.Value.GetType("PluginProxy.Plugins.Amp.AmpRouter", throwOnError: true)!)!;

    /// <summary>Warnings the plugin wrote (instead of standard error) since the first call.</summary>
    public static IReadOnlyCollection<string> Warnings => CapturedWarnings.Value;

    /// <summary>Settings as the host builds them: the whole config as JSON, YAML scalars as strings.</summary>
    public static PluginSettings Settings(string configJson) => new(default, JsonDocument.Parse(configJson).RootElement.Clone());
}

/// <summary>
/// A real server with copies of the built Amp and OpenAICompat plugins (so a test may delete the Amp folder), one
/// OpenAI-compatible fake account serving <c>client-model</c> (upstream <c>upstream-model</c>) and two client keys.
/// </summary>
internal static class AmpTestServer
{
    public const string ClientKey = "client-key-amp-1";
    public const string OtherClientKey = "client-key-amp-2";
    public const string ClientModel = "client-model";
    public const string UpstreamModel = "upstream-model";

    public static string Config(FakeOpenAIUpstream openai, string ampcode, string? host = null) => $"""
        {(host is null ? "" : $"host: \"{host}\"")}
        api-keys: ["{ClientKey}", "{OtherClientKey}"]
        openai-compatibility:
          - name: "fake-openai"
            base-url: "{openai.BaseUrl}"
            api-key-entries:
              - api-key: "sk-upstream-amp"
            models:
              - name: "{UpstreamModel}"
                alias: "{ClientModel}"
        {ampcode}
        """;

    public static Task<TestServer> StartAsync(FakeOpenAIUpstream openai, string ampcode = "", string? host = null) =>
        TestServer.StartAsync(Config(openai, ampcode, host), prepare: root =>
        {
            var plugins = Path.Combine(root, "plugins");
            foreach (var name in new[] { FolderName, "PluginProxy.Plugins.OpenAICompat" })
                CopyDirectory(Path.Combine(AppContext.BaseDirectory, "plugins", name), Path.Combine(plugins, name));
        }, clientKey: ClientKey);

    private const string FolderName = AmpPlugin.FolderName;

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
