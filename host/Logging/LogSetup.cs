using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using PluginProxy.Host.Config;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Builds the server's Serilog pipeline: everything passes the <see cref="RedactingSink"/>, then goes to the console
/// and, with <c>logging-to-file</c>, to <c>logs/main.log</c> next to the config file (rolled daily and at 10 MB).
/// <c>debug</c> and <c>logging-to-file</c> apply live.
/// </summary>
internal sealed class LogSetup : IDisposable
{
    private const string Template = LogLineFormatter.Template;

    private readonly RedactingSink _redacting;
    private readonly LoggingLevelSwitch _level = new();
    private readonly ILogEventSink? _extraSink;
    private readonly LogLineFormatter _formatter = new();
    private readonly Func<ITextFormatter, ILogEventSink>? _console;
    private (bool ToFile, string Dir)? _applied;

    /// <param name="console">Tests and benchmarks: makes the console output from the line formatter (instead of stdout).</param>
    public LogSetup(SecretRedactor redactor, ILogEventSink? extraSink = null, Func<ITextFormatter, ILogEventSink>? console = null)
    {
        _console = console;
        _redacting = new RedactingSink(redactor);
        _extraSink = extraSink;
        Logger = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(_level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .WriteTo.Sink(_redacting)
            .CreateLogger();
        AccessLog = new AccessLog(Logger);
    }

    public Logger Logger { get; }

    /// <summary>The access-log line's writer (one per request, so it skips Microsoft.Extensions.Logging).</summary>
    public AccessLog AccessLog { get; }

    /// <summary>Where the log file goes for a config.</summary>
    public static string LogDirectory(LoadedConfig config) => Path.Combine(config.BaseDirectory, "logs");

    public void Apply(LoadedConfig config)
    {
        _level.MinimumLevel = config.Config.Debug ? LogEventLevel.Debug : LogEventLevel.Information;
        var wanted = (config.Config.LoggingToFile, LogDirectory(config));
        if (_applied == wanted) return;
        _applied = wanted;
        // Console and file are written off the request path: the access log is one line per request and must not cost
        // a synchronous write each. A terminal keeps Serilog's colored console (on its own thread); redirected output
        // (services, containers, benchmarks) gets the batched writer. Both writers of plain text share the formatter that
        // renders the template's lines cheaply (LogLineFormatter).
        var outputs = new LoggerConfiguration().MinimumLevel.Verbose();
        if (_console is not null)
            outputs.WriteTo.Sink(_console(_formatter));
        else if (Console.IsOutputRedirected)
            outputs.WriteTo.Sink(new BatchedConsoleSink(_formatter));
        else
            outputs.WriteTo.Async(a => a.Console(outputTemplate: Template, formatProvider: System.Globalization.CultureInfo.InvariantCulture));
        if (wanted.LoggingToFile)
            outputs.WriteTo.Async(a => a.File(_formatter, Path.Combine(wanted.Item2, "main.log"), rollingInterval: RollingInterval.Day,
                fileSizeLimitBytes: 10 * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 10, shared: true,
                flushToDiskInterval: TimeSpan.FromSeconds(1)));
        if (_extraSink is not null) outputs.WriteTo.Sink(_extraSink);
        _redacting.SetOutputs(outputs.CreateLogger());
    }

    public void Dispose()
    {
        Logger.Dispose();
        _redacting.Dispose();
    }
}
