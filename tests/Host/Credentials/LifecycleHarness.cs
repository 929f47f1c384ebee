using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Upstream;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Credentials;

/// <summary>
/// The credential side of the server, wired as ProxyServer wires it but on a <see cref="TimerClock"/>: config (with
/// <c>providers.lifecycled.token-url</c>), the <see cref="LifecyclePlugin"/>, the store on a temporary auth-dir, health,
/// scheduler, refresher and the background <see cref="TokenLifecycle"/>. Log lines are captured unredacted, so an
/// assertion that no token appears is stronger than the server's.
/// </summary>
internal sealed class LifecycleHarness : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _logs;
    private readonly ILoggerFactory _loggerFactory;

    private LifecycleHarness(string root, TimerClock clock, ConcurrentQueue<string> logs, ILoggerFactory loggerFactory, ConfigStore config, PluginRuntime plugins,
        CredentialStore store, HttpClientPool http)
    {
        Root = root;
        Clock = clock;
        _logs = logs;
        _loggerFactory = loggerFactory;
        Config = config;
        Plugins = plugins;
        Store = store;
        Http = http;
        Health = new CredentialHealth();
        Scheduler = new Scheduler(config, clock, Health);
        store.Changed += snapshot =>
        {
            Health.OnCredentialsChanged(snapshot);
            Scheduler.OnCredentialsChanged(snapshot);
        };
        Refresher = new CredentialRefresher(store, plugins, config, http, Health, clock, loggerFactory.CreateLogger<CredentialRefresher>());
        Lifecycle = new TokenLifecycle(store, plugins, Refresher, Health, clock, loggerFactory.CreateLogger<TokenLifecycle>());
    }

    public string Root { get; }
    public TimerClock Clock { get; }
    public ConfigStore Config { get; }
    public PluginRuntime Plugins { get; }
    public CredentialStore Store { get; }
    public HttpClientPool Http { get; }
    public CredentialHealth Health { get; }
    public Scheduler Scheduler { get; }
    public CredentialRefresher Refresher { get; }
    public TokenLifecycle Lifecycle { get; }
    public string AuthDir => Path.Combine(Root, "auths");
    public string Logs => string.Join("\n", _logs);

    /// <param name="tokenUrl">The fake token endpoint (the plugin reads it from its settings).</param>
    /// <param name="files">Credential files (name, JSON) present before start.</param>
    /// <param name="startLifecycle">False to start the background refresher later (or never).</param>
    public static async Task<LifecycleHarness> StartAsync(TimerClock clock, string tokenUrl, (string Name, string Json)[] files, bool startLifecycle = true)
    {
        var root = Directory.CreateTempSubdirectory("pluginproxy-lifecycle-").FullName;
        var auths = Directory.CreateDirectory(Path.Combine(root, "auths")).FullName;
        var pluginsFolder = Path.Combine(root, "plugins");
        TestPluginCompiler.Deploy(pluginsFolder, "TestLifecycled", LifecyclePlugin.Compile());
        var configPath = Path.Combine(root, "config.yaml");
        await File.WriteAllTextAsync(configPath, $"auth-dir: \"{auths}\"\nproviders:\n  lifecycled:\n    token-url: \"{tokenUrl}\"\n");
        foreach (var (name, json) in files) await File.WriteAllTextAsync(Path.Combine(auths, name), json);

        var logs = new ConcurrentQueue<string>();
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new CaptureProvider(logs)));
        var config = new ConfigStore(ConfigLoader.LoadFile(configPath));
        var plugins = new PluginRuntime(pluginsFolder, config.Config.Plugins.Include, config.Config.Plugins.Exclude, loggerFactory.CreateLogger<PluginRuntime>());
        plugins.Start(watch: false);
        var store = new CredentialStore(config, loggerFactory.CreateLogger<CredentialStore>());
        await store.StartAsync();
        var harness = new LifecycleHarness(root, clock, logs, loggerFactory, config, plugins, store, new HttpClientPool());
        harness.Scheduler.OnCredentialsChanged(store.Current);
        if (startLifecycle) harness.Lifecycle.Start();
        return harness;
    }

    public CredentialRecord Credential(string name) => Store.Current.ById[name];

    /// <summary>A route per credential for the plugin's model, as the registry would build them.</summary>
    public ImmutableArray<ModelRoute> Routes(params string[] names) => [.. names.Select(n => new ModelRoute(Credential(n), "life-model"))];

    public ValueTask DisposeAsync()
    {
        Lifecycle.Dispose();
        Store.Dispose();
        Plugins.Dispose();
        Http.Dispose();
        _loggerFactory.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private sealed class CaptureProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Capture(lines);

        public void Dispose()
        {
        }
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"[{logLevel}] {formatter(state, exception)}");
    }
}
