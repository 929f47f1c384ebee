using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Serilog;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Security;
using PluginProxy.Host.Server;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Cli;

/// <summary>What each command does. Exit codes: 0 ok, 1 failure, 2 bad usage.</summary>
internal static class Commands
{
    private static readonly Dictionary<string, string> ProviderAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["anthropic"] = "claude",
        ["openai"] = "codex",
        ["google"] = "gemini",
        ["i-flow"] = "iflow",
    };

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Terminal.FromConsole());

    /// <summary>Runs a command against the given terminal (tests pass their own).</summary>
    internal static async Task<int> RunAsync(string[] args, Terminal terminal)
    {
        var line = CommandLine.Parse(args);
        switch (line.Command)
        {
            case "help":
                if (line.Error is not null) await Console.Error.WriteLineAsync($"error: {line.Error}\n");
                await (line.Error is null ? Console.Out : Console.Error).WriteLineAsync(CommandLine.Help);
                return line.Error is null ? 0 : 2;
            case "version":
                Console.WriteLine(typeof(Commands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
                return 0;
            case "plugins":
                return ListPlugins(line);
            case "login":
                return await LoginAsync(line, terminal);
            default:
                return await ServeAsync(line);
        }
    }

    private static async Task<int> ServeAsync(CommandLine line)
    {
        using var stop = new CancellationTokenSource();
        ProxyServer server;
        try
        {
            server = await ProxyServer.StartAsync(new ServerOptions { ConfigPath = line.ConfigPath }, stop.Token);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"PluginProxy cannot start: {e.Message}");
            return 1;
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync($"PluginProxy cannot start: {e.Message}. Is another server on that port? Change 'port' in the config.");
            return 1;
        }
        // Start-up garbage (the config's YAML, plugin loading, route building) would keep GC regions and C-heap blocks
        // committed for the life of the process; after a load burst the idle trim does the same once things are quiet.
        IdleTrim.Collect();
        using var trim = new IdleTrim();
        await using (server)
        {
            await server.WaitForShutdownAsync();
        }
        return 0;
    }

    private static int ListPlugins(CommandLine line)
    {
        if (!TryLoadConfig(line, out var config)) return 1;
        using var tooling = Tooling.Create(config);
        var set = tooling.Plugins.Current;
        Console.WriteLine($"Plugins folder: {tooling.Plugins.Folder}");
        if (set.Plugins.IsEmpty) Console.WriteLine("No plugins loaded.");
        foreach (var plugin in set.Plugins)
        {
            Console.WriteLine($"{plugin.Name} {plugin.Version}");
            foreach (var p in plugin.Providers)
                Console.WriteLine($"  provider {p.Id}: credential types [{string.Join(", ", p.CredentialTypes)}], speaks {p.NativeDialect}, " +
                                  $"{p.Models.Count} built-in models{(p.Authenticator is null ? "" : ", login")}");
            foreach (var r in plugin.Routers) Console.WriteLine($"  router {r.Id} ({r.Routes.Count} routes)");
        }
        return 0;
    }

    private static async Task<int> LoginAsync(CommandLine line, Terminal terminal)
    {
        if (!TryLoadConfig(line, terminal, out var config)) return 1;
        using var tooling = Tooling.Create(config);
        var wanted = ProviderAliases.GetValueOrDefault(line.LoginProvider!, line.LoginProvider!);
        var providers = tooling.Plugins.Current.Plugins.SelectMany(p => p.Providers).ToList();
        var provider = providers
            .Where(p => p.Authenticator is not null)
            .FirstOrDefault(p => Matches(p, wanted) || Matches(p, wanted + "-cli"));
        if (provider?.Authenticator is not { } authenticator)
        {
            var available = providers.Where(p => p.Authenticator is not null).Select(p => p.Id).ToList();
            await terminal.Error.WriteLineAsync(
                $"No loaded plugin provides a login for '{line.LoginProvider}'. " +
                (available.Count == 0 ? "No plugin with a login is loaded yet" : $"Logins available: {string.Join(", ", available)}") +
                $" (plugins folder: {tooling.Plugins.Folder}).");
            return 2;
        }
        using var cancel = new CancellationTokenSource();
        using var _ = terminal.OnCancel(cancel);
        var authDir = tooling.Credentials.AuthDir;
        try
        {
            var result = await authenticator.LoginAsync(new LoginContext
            {
                NoBrowser = line.NoBrowser,
                CallbackPort = line.CallbackPort,
                Http = tooling.Http.Get(config.Config.ProxyUrl),
                Output = terminal.Out,
                ReadLine = terminal.ReadLine,
                OpenBrowser = terminal.OpenBrowser,
                Settings = config.SettingsFor(provider.Id),
                Options = line.LoginOptions,
                ExistingCredentials = () => ExistingCredentials(authDir),
            }, cancel.Token);
            // Checked before writing, so a login that produced something unusable leaves auth-dir untouched.
            if (result?.Content is null || result.FileName != Path.GetFileName(result.FileName) || !result.FileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"the {provider.Id} plugin returned no credential or an invalid file name");
            var path = Path.Combine(authDir, result.FileName);
            if (AuthFileParser.Parse(path, authDir, JsonText.SerializeToUtf8(result.Content)) is null)
                throw new InvalidOperationException($"the {provider.Id} plugin returned a credential without a known \"type\"");
            await tooling.Credentials.WriteAsync(result.FileName, result.Content, cancel.Token);
            await terminal.Out.WriteLineAsync($"Logged in as {result.Label}; saved {path}");
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await terminal.Error.WriteLineAsync("Login cancelled.");
            return 1;
        }
        catch (Exception e)
        {
            // Whatever failed (the flow, the provider, the plugin itself, the write): one line, secrets redacted.
            var message = e is OperationCanceledException ? "the login was cancelled" : e.Message;
            await terminal.Error.WriteLineAsync($"Login failed: {tooling.Redactor.Redact(message)}");
            return 1;
        }
    }

    private static IReadOnlyList<PluginProxy.Abstractions.Credentials.CredentialRecord> ExistingCredentials(string authDir)
    {
        if (!Directory.Exists(authDir)) return [];
        var records = new List<PluginProxy.Abstractions.Credentials.CredentialRecord>();
        foreach (var file in Directory.EnumerateFiles(authDir, "*.json"))
        {
            try
            {
                if (AuthFileParser.Parse(file, authDir, File.ReadAllBytes(file)) is { } record) records.Add(record);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return records;
    }

    private static bool Matches(IProviderPlugin provider, string name) =>
        string.Equals(provider.Id, name, StringComparison.OrdinalIgnoreCase) || provider.CredentialTypes.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static bool TryLoadConfig(CommandLine line, out LoadedConfig config) => TryLoadConfig(line, Terminal.FromConsole(), out config);

    private static bool TryLoadConfig(CommandLine line, Terminal terminal, out LoadedConfig config)
    {
        try
        {
            config = File.Exists(line.ConfigPath) ? ConfigLoader.LoadFile(line.ConfigPath) : ConfigLoader.Defaults();
            return true;
        }
        catch (ConfigException e)
        {
            terminal.Error.WriteLine($"Config error: {e.Message}");
            config = ConfigLoader.Defaults();
            return false;
        }
    }

    internal static bool OpenBrowser(string url)
    {
        try
        {
            var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
            using var process = Process.Start(new ProcessStartInfo(opener, url) { UseShellExecute = false, RedirectStandardError = true });
            return process is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>The parts of the server a one-shot command needs: plugins (not watched), credentials, logging.</summary>
    private sealed class Tooling : IDisposable
    {
        private readonly ILoggerFactory _loggers;
        private readonly LogSetup _logs;

        private Tooling(ILoggerFactory loggers, LogSetup logs, PluginRuntime plugins, CredentialStore credentials, SecretRedactor redactor)
        {
            _loggers = loggers;
            _logs = logs;
            Plugins = plugins;
            Credentials = credentials;
            Redactor = redactor;
        }

        public PluginRuntime Plugins { get; }
        public CredentialStore Credentials { get; }
        public SecretRedactor Redactor { get; }
        public HttpClientPool Http { get; } = new();

        public static Tooling Create(LoadedConfig config)
        {
            var redactor = new SecretRedactor();
            var logs = new LogSetup(redactor); // the same redacting pipeline as the server
            logs.Apply(config);
            var loggers = LoggerFactory.Create(b => b.AddSerilog(logs.Logger).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning));
            var plugins = new PluginRuntime(ProxyServer.ResolvePluginsFolder(null, config), config.Config.Plugins.Include, config.Config.Plugins.Exclude, loggers.CreateLogger<PluginRuntime>());
            plugins.Start(watch: false);
            var credentials = new CredentialStore(new ConfigStore(config), loggers.CreateLogger<CredentialStore>());
            redactor.Update(config.Config, credentials.Current);
            return new Tooling(loggers, logs, plugins, credentials, redactor);
        }

        public void Dispose()
        {
            Http.Dispose();
            Credentials.Dispose();
            Plugins.Dispose();
            _loggers.Dispose();
            _logs.Dispose();
        }
    }
}
