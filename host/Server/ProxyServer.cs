using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Endpoints;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Management;
using PluginProxy.Host.Models;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Proxying;
using PluginProxy.Host.Routing;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;
using PluginProxy.Host.Sockets;
using PluginProxy.Host.Upstream;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Host.Server;

/// <summary>
/// The composition root: loads the config, plugins and credentials, wires their live-reload events, and runs Kestrel.
/// Used by the CLI and, unchanged, by the integration tests.
/// </summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LogSetup _logs;
    private readonly IDisposable[] _owned;

    private ProxyServer(WebApplication app, LogSetup logs, IDisposable[] owned)
    {
        _app = app;
        _logs = logs;
        _owned = owned;
    }

    /// <summary>The first address the server listens on (with the real port when 0 was asked for).</summary>
    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public IServiceProvider Services => _app.Services;
    public PluginRuntime Plugins => Services.GetRequiredService<PluginRuntime>();
    public ConfigStore Config => Services.GetRequiredService<ConfigStore>();
    public CredentialStore Credentials => Services.GetRequiredService<CredentialStore>();

    /// <summary>Loads everything and starts listening. Throws <see cref="ConfigException"/> when the config cannot be used.</summary>
    public static async Task<ProxyServer> StartAsync(ServerOptions options, CancellationToken cancellationToken = default)
    {
        var configPath = Path.GetFullPath(options.ConfigPath);
        await ManagementSecret.HashFileAsync(configPath, cancellationToken); // a plaintext management key never stays on disk
        var loaded = File.Exists(configPath) ? ConfigLoader.LoadFile(configPath) : ConfigLoader.Defaults();
        var redactor = new SecretRedactor();
        var logs = new LogSetup(redactor, options.LogSink);
        logs.Apply(loaded);
        var loggerFactory = LoggerFactory.Create(b => b.AddSerilog(logs.Logger));
        var startLog = loggerFactory.CreateLogger("PluginProxy.Startup");
        if (loaded.Path is null)
            startLog.LogWarning("No config file at {Path}; running on safe defaults (127.0.0.1:{Port}, no client keys). Copy config.example.yaml there to configure; it is picked up live.",
                configPath, ProxyConfig.DefaultPort);
        foreach (var warning in loaded.Warnings) startLog.LogWarning("{ConfigWarning}", warning);

        var config = new ConfigStore(loaded);
        var plugins = new PluginRuntime(ResolvePluginsFolder(options.PluginsFolder, loaded), loaded.Config.Plugins.Include, loaded.Config.Plugins.Exclude,
            loggerFactory.CreateLogger<PluginRuntime>());
        var credentials = new CredentialStore(config, loggerFactory.CreateLogger<CredentialStore>());
        var registry = new ModelRegistry();
        var clock = options.Clock ?? TimeProvider.System;
        var health = new CredentialHealth();
        var scheduler = new Scheduler(config, clock, health);
        var httpClients = new HttpClientPool();
        var refresher = new CredentialRefresher(credentials, plugins, config, httpClients, health, clock, loggerFactory.CreateLogger<CredentialRefresher>());
        var lifecycle = new TokenLifecycle(credentials, plugins, refresher, health, clock, loggerFactory.CreateLogger<TokenLifecycle>());
        var usage = new UsageRecorder(config, clock, loggerFactory.CreateLogger<UsageRecorder>());
        usage.Start();

        // The credential store republishes on every config change (it owns the config's API-key credentials), so its
        // event is where everything derived from config and credentials is rebuilt.
        config.Changed += (_, next) => logs.Apply(next);
        credentials.Changed += snapshot =>
        {
            redactor.Update(config, credentials);
            health.OnCredentialsChanged(snapshot);
            scheduler.OnCredentialsChanged(snapshot);
            registry.Rebuild(credentials, plugins, config);
        };
        plugins.Changed += _ => registry.Rebuild(credentials, plugins, config);

        plugins.Start();
        await credentials.StartAsync();
        redactor.Update(config, credentials);
        scheduler.OnCredentialsChanged(credentials.Current);
        var cooldownFiles = new CooldownFiles(scheduler.Book, credentials.AuthDir, () => config.Config.SaveCooldownStatus, clock, loggerFactory.CreateLogger<CooldownFiles>());
        if (loaded.Config.SaveCooldownStatus) cooldownFiles.Load();
        registry.Rebuild(credentials, plugins, config);
        lifecycle.Start();
        var watcher = Directory.Exists(Path.GetDirectoryName(configPath))
            ? new ConfigWatcher(config, configPath, loggerFactory.CreateLogger<ConfigWatcher>())
            : null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logs.Logger);
        // Hosting creates an Activity and a log scope per request whenever its category is enabled at all; nothing here
        // reads them (the access log has its own id), and the Activity would also make HttpClient add traceparent
        // headers to upstream calls. Off: a measurable share of the per-request CPU (bench/README.md).
        builder.Logging.AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // enforced per request from the live config (max-body-size-mb)
            kestrel.AddServerHeader = false;
            Listen(kestrel, loaded.Config, options.Port ?? loaded.Config.Port);
        });
        var services = builder.Services;
        services.AddSingleton(config).AddSingleton(plugins).AddSingleton(credentials).AddSingleton(registry).AddSingleton(redactor)
            .AddSingleton(scheduler).AddSingleton(httpClients).AddSingleton(health).AddSingleton(refresher).AddSingleton(lifecycle).AddSingleton(usage)
            .AddSingleton(clock).AddSingleton(cooldownFiles).AddSingleton(logs.AccessLog)
            .AddSingleton<CredentialUpdate>(async (credential, edit, cancellationToken) => await credentials.UpdateAsync(credential, edit, cancellationToken))
            .AddSingleton(new PluginLogs(loggerFactory))
            .AddSingleton(sp => new CandidateResolver(registry, sp.GetRequiredService<ModelAvailability>(), sp.GetRequiredService<PluginLogs>()))
            .AddSingleton<AttemptRunner>().AddSingleton<FailoverLoop>().AddSingleton<ProxyHandler>();
        services.AddPluginRoutes();
        services.AddSocketEndpoints();
        services.AddManagement();
        // "Remote" for the management API is the socket's peer: no forwarded-headers middleware may rewrite it, even when
        // ASPNETCORE_FORWARDEDHEADERS_ENABLED asks the host to add one.
        services.PostConfigure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(o => o.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.None);

        var app = builder.Build();
        options.BeforePipeline?.Invoke(app);
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseMiddleware<ClientAuthMiddleware>();
        HealthEndpoints.Map(app);
        ModelEndpoints.Map(app);
        InferenceEndpoints.Map(app);
        app.MapPluginRoutes(); // the routing plugins' aliases and forwarding routes, live with the plugin set
        app.MapSocketEndpoints(); // the provider plugins' WebSocket paths (the AI Studio relay), live with the plugin set
        ManagementApi.Map(app); // /v0/management (404 while remote-management.secret-key is empty)
        await app.StartAsync(cancellationToken);
        var server = new ProxyServer(app, logs, [loggerFactory, .. watcher is null ? Array.Empty<IDisposable>() : [watcher], credentials, plugins, lifecycle, usage]);
        startLog.LogInformation("PluginProxy listening on {Address}; plugins from {Folder}; credentials from {AuthDir}",
            server.Address, plugins.Folder, credentials.AuthDir);
        return server;
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>The plugins folder: an explicit override, else <c>plugins.folder</c> (relative to the config), else <c>plugins/</c> next to the executable.</summary>
    public static string ResolvePluginsFolder(string? overrideFolder, LoadedConfig config) =>
        overrideFolder
        ?? (config.Config.Plugins.Folder is { Length: > 0 } folder
            ? Path.GetFullPath(folder, config.BaseDirectory)
            : Path.Combine(AppContext.BaseDirectory, "plugins"));

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, ProxyConfig config, int port)
    {
        var host = ConfigLoader.BindHost(config);
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(host.Trim('[', ']'), out var ip) => ip,
            _ => throw new ConfigException($"host '{host}' is not an IP address; use an address such as 127.0.0.1 or 0.0.0.0"),
        };
        kestrel.Listen(address, port, listen =>
        {
            if (!config.Tls.Enable) return;
            try
            {
                listen.UseHttps(X509Certificate2.CreateFromPemFile(config.Tls.Cert!, config.Tls.Key));
            }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
            {
                throw new ConfigException($"tls: cannot load {config.Tls.Cert} / {config.Tls.Key}: {e.Message}", e);
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var owned in _owned.Reverse()) owned.Dispose();
        _logs.Dispose();
    }
}
