using System.Collections.Immutable;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Formats;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// Loads plugin folders into collectible load contexts and keeps the current <see cref="PluginSet"/>.
/// A plugin folder is <c>&lt;folder&gt;/&lt;name&gt;/&lt;name&gt;.dll</c> plus its dependencies; include/exclude globs pick which
/// main assemblies count. A changed folder is loaded and validated beside the running version, then published;
/// if it fails, the running version keeps serving.
/// </summary>
internal sealed partial class PluginRuntime : IDisposable
{
    // Types whose assemblies come from the host's context, so plugins and host agree on them.
    private static readonly Type[] SharedTypes = [typeof(IPlugin), typeof(IDialectCodec), typeof(PluginProxy.Sdk.Execution.DialectHttpExecutor)];

    private readonly ILogger _logger;
    private readonly Lock _reloadGate = new();
    private readonly Dictionary<string, string> _failedFingerprints = new(StringComparer.Ordinal);
    private PluginSet _current = new(0, []);
    private DebouncedWatcher? _watcher;

    public PluginRuntime(string folder, IReadOnlyList<string> include, IReadOnlyList<string> exclude, ILogger<PluginRuntime> logger)
    {
        Folder = Path.GetFullPath(folder);
        Include = include.Count > 0 ? include : ["**/*.dll"];
        Exclude = exclude;
        _logger = logger;
    }

    public string Folder { get; }
    public IReadOnlyList<string> Include { get; }
    public IReadOnlyList<string> Exclude { get; }

    /// <summary>The set new requests get. Prefer <see cref="Acquire"/> while using its plugins.</summary>
    public PluginSet Current => Volatile.Read(ref _current);

    /// <summary>Raised after a new set is published.</summary>
    public event Action<PluginSet>? Changed;

    /// <summary>Raised when a plugin version's context has been unloaded (tests and diagnostics).</summary>
    public event Action<LoadedPlugin>? Unloaded;

    /// <summary>Leases the current set for the duration of a request.</summary>
    public PluginLease Acquire()
    {
        while (true)
        {
            var set = Volatile.Read(ref _current);
            if (set.TryAcquire()) return new PluginLease(set);
        }
    }

    /// <summary>Loads what is in the folder now and starts watching it.</summary>
    public void Start(bool watch = true)
    {
        Directory.CreateDirectory(Folder);
        Reload();
        if (watch) _watcher = new DebouncedWatcher(Folder, "*", recursive: true, TimeSpan.FromMilliseconds(400), _ => Task.Run(Reload));
    }

    /// <summary>Rescans the folder; loads new and changed plugins, drops deleted ones, publishes if anything changed.</summary>
    public void Reload()
    {
        lock (_reloadGate)
        {
            var current = Current;
            var next = new List<LoadedPlugin>();
            var changed = false;
            var discovered = Discover();
            foreach (var (name, mainAssembly) in discovered)
            {
                var existing = current.Plugins.FirstOrDefault(p => p.Name == name);
                string fingerprint;
                try
                {
                    fingerprint = Fingerprint(Path.GetDirectoryName(mainAssembly)!);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (existing is not null) next.Add(existing); // mid-copy or unreadable; the next change brings us back
                    continue;
                }
                if (existing?.Fingerprint == fingerprint || _failedFingerprints.GetValueOrDefault(name) == fingerprint)
                {
                    if (existing is not null) next.Add(existing);
                    continue;
                }
                // Credential types may not be claimed twice: check against every other plugin that stays, not only those seen so far.
                var others = next.Concat(current.Plugins.Where(p => p.Name != name && discovered.Any(d => d.Name == p.Name) && next.All(n => n.Name != p.Name))).ToList();
                var loaded = TryLoad(name, mainAssembly, fingerprint, others, out var conflict);
                if (loaded is null)
                {
                    if (!conflict) _failedFingerprints[name] = fingerprint; // a conflict may resolve when the other plugin goes
                    if (existing is not null)
                    {
                        next.Add(existing);
                        LogKeptPrevious(name, existing.Version);
                    }
                    continue;
                }
                _failedFingerprints.Remove(name);
                next.Add(loaded);
                changed = true;
                if (existing is null) LogLoaded(name, loaded.Version, Describe(loaded));
                else LogSwapped(name, existing.Version, loaded.Version);
            }
            foreach (var gone in current.Plugins.Where(p => discovered.All(d => d.Name != p.Name)))
            {
                changed = true;
                LogRemoved(gone.Name, gone.Version);
            }
            if (!changed) return;
            var set = new PluginSet(current.Revision + 1, [.. next]);
            Volatile.Write(ref _current, set);
            current.Release();
            Changed?.Invoke(set);
        }
    }

    private List<(string Name, string Path)> Discover()
    {
        if (!Directory.Exists(Folder)) return [];
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(Include);
        matcher.AddExcludePatterns(Exclude);
        return matcher.GetResultsInFullPath(Folder)
            .Select(path => (Dir: Path.GetDirectoryName(path)!, Path: path))
            .Where(f => Path.GetFileNameWithoutExtension(f.Path) == Path.GetFileName(f.Dir)
                        && string.Equals(Path.GetDirectoryName(f.Dir), Folder, StringComparison.Ordinal))
            .Select(f => (Path.GetFileName(f.Dir), f.Path))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)
            .ToList();
    }

    private LoadedPlugin? TryLoad(string name, string mainAssembly, string fingerprint, IReadOnlyList<LoadedPlugin> others, out bool conflict)
    {
        conflict = false;
        PluginLoader? loader = null;
        try
        {
            loader = PluginLoader.CreateFromAssemblyFile(mainAssembly, isUnloadable: true, SharedTypes, config =>
            {
                // Load from memory: the DLL on disk can then be replaced while this version still serves.
                config.LoadInMemory = true;
                config.PreferSharedTypes = true;
            });
            var assembly = loader.LoadDefaultAssembly();
            // Before any plugin type is touched: a plugin built against another contract would fail later, mid-request.
            if (ContractMismatch(assembly) is { } mismatch) throw new InvalidOperationException(mismatch);
            var providers = new List<IProviderPlugin>();
            var routers = new List<IRoutingPlugin>();
            foreach (var type in assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
            {
                var isProvider = typeof(IProviderPlugin).IsAssignableFrom(type);
                var isRouter = typeof(IRoutingPlugin).IsAssignableFrom(type);
                if (!isProvider && !isRouter) continue;
                var instance = Activator.CreateInstance(type)
                               ?? throw new InvalidOperationException($"{type.FullName} could not be created");
                if (instance is IProviderPlugin provider) providers.Add(Validate(provider));
                if (instance is IRoutingPlugin router) routers.Add(router);
            }
            if (providers.Count == 0 && routers.Count == 0)
                throw new InvalidOperationException("the assembly contains no public IProviderPlugin or IRoutingPlugin type (built against another PluginProxy.Abstractions?)");
            if (Conflict(providers, others) is { } message)
            {
                conflict = true;
                throw new InvalidOperationException(message);
            }
            var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
                          ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
            var loaded = new LoadedPlugin(name, version, fingerprint, loader, providers, routers);
            loaded.Unloaded += p =>
            {
                LogUnloaded(p.Name, p.Version);
                Unloaded?.Invoke(p);
            };
            return loaded;
        }
        catch (Exception e)
        {
            loader?.Dispose();
            LogLoadFailed(e, name, Reason(e));
            return null;
        }
    }

    /// <summary>
    /// Why a plugin cannot run against this host's contract, or null: the versions of <c>PluginProxy.Abstractions</c> and
    /// <c>PluginProxy.Sdk</c> it references must have the host's major version and at most its minor one.
    /// </summary>
    internal static string? ContractMismatch(Assembly plugin)
    {
        foreach (var shared in new[] { typeof(IPlugin).Assembly, typeof(PluginProxy.Sdk.Execution.DialectHttpExecutor).Assembly })
        {
            var host = shared.GetName();
            var wanted = plugin.GetReferencedAssemblies().FirstOrDefault(r => string.Equals(r.Name, host.Name, StringComparison.Ordinal));
            if (wanted?.Version is not { } version || host.Version is not { } have) continue;
            if (version.Major != have.Major || version.Minor > have.Minor)
                return $"built against {host.Name} {version.Major}.{version.Minor}, but this host has contract {have.Major}.{have.Minor}; " +
                       $"rebuild the plugin against PluginProxy {have.Major}.{have.Minor}";
        }
        return null;
    }

    private static IProviderPlugin Validate(IProviderPlugin provider)
    {
        if (string.IsNullOrWhiteSpace(provider.Id)) throw new InvalidOperationException($"{provider.GetType().FullName} has an empty Id");
        if (provider.CredentialTypes is not { Count: > 0 }) throw new InvalidOperationException($"provider '{provider.Id}' owns no credential types");
        if (provider.Executor is null) throw new InvalidOperationException($"provider '{provider.Id}' has no executor");
        _ = provider.Models ?? throw new InvalidOperationException($"provider '{provider.Id}' has a null model catalog");
        return provider;
    }

    // Two plugin folders may not claim the same credential type: which one served would depend on load order.
    private static string? Conflict(List<IProviderPlugin> providers, IReadOnlyList<LoadedPlugin> others)
    {
        foreach (var type in providers.SelectMany(p => p.CredentialTypes))
        {
            var owner = others.FirstOrDefault(p => p.Providers.Any(q => q.CredentialTypes.Contains(type, StringComparer.OrdinalIgnoreCase)));
            if (owner is not null) return $"credential type '{type}' is already provided by plugin '{owner.Name}'";
        }
        return null;
    }

    private static string Reason(Exception e) => e switch
    {
        ReflectionTypeLoadException r => string.Join("; ", r.LoaderExceptions.Where(x => x is not null).Select(x => x!.Message).Distinct()),
        TargetInvocationException { InnerException: { } inner } => inner.Message,
        BadImageFormatException => "not a valid .NET assembly",
        _ => e.Message,
    };

    private static string Describe(LoadedPlugin plugin) =>
        string.Join(", ", plugin.Providers.Select(p => $"provider {p.Id}").Concat(plugin.Routers.Select(r => $"router {r.Id}")));

    /// <summary>Names, sizes and write times of every file in the folder: a copy of any file changes it.</summary>
    private static string Fingerprint(string directory)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            text.Append(Path.GetRelativePath(directory, file)).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public void Dispose() => _watcher?.Dispose();

    [LoggerMessage(LogLevel.Information, "Plugin {Name} {Version} loaded ({Contents})")]
    private partial void LogLoaded(string name, string version, string contents);

    [LoggerMessage(LogLevel.Information, "Plugin {Name} swapped {OldVersion} -> {NewVersion}; requests in flight finish on {OldVersion}")]
    private partial void LogSwapped(string name, string oldVersion, string newVersion);

    [LoggerMessage(LogLevel.Information, "Plugin {Name} {Version} removed from the folder; it stops serving new requests")]
    private partial void LogRemoved(string name, string version);

    [LoggerMessage(LogLevel.Information, "Plugin {Name} {Version} unloaded")]
    private partial void LogUnloaded(string name, string version);

    [LoggerMessage(LogLevel.Error, "Plugin {Name} failed to load: {Reason}")]
    private partial void LogLoadFailed(Exception exception, string name, string reason);

    [LoggerMessage(LogLevel.Warning, "Plugin {Name}: version {Version} keeps serving")]
    private partial void LogKeptPrevious(string name, string version);
}
