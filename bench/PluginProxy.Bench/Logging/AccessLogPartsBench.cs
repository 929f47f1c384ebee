using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Security;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace PluginProxy.Bench.Logging;

/// <summary>
/// Where the access line's cost goes: formatting one access event (Serilog's formatter, baseline, vs
/// <see cref="LogLineFormatter"/>), the redaction walk of one event (40 secrets, nothing to mask), and building the event.
/// </summary>
[MemoryDiagnoser]
public class AccessLogPartsBench
{
    private readonly MessageTemplateTextFormatter _serilog = new(LogLineFormatter.Template, CultureInfo.InvariantCulture);
    private readonly LogLineFormatter _ours = new();
    private readonly StreamWriter _output = new(Stream.Null, new UTF8Encoding(false), 32 * 1024);
    private LogEvent _event = null!;
    private RedactingSink _redacting = null!;
    private AccessLog _build = null!;

    [GlobalSetup]
    public void Setup()
    {
        var capture = new Capture();
        using (var logger = new LoggerConfiguration().WriteTo.Sink(capture).CreateLogger())
            new AccessLog(logger).Write("1a2b3c4d", "POST", "/v1/chat/completions", 200, 12.3456, "openai-compat", "work-key", new Usage { InputTokens = 1234, OutputTokens = 56 }, "0HNQIJ569OCBT");
        _event = capture.Last!;
        var keys = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"\"sk-bench-secret-{i:D4}-{Guid.NewGuid():N}\""));
        var loaded = ConfigLoader.Parse($"api-keys: [{keys}]\n");
        var redactor = new SecretRedactor();
        redactor.Update(loaded.Config, CredentialSnapshot.Empty, loaded.Json);
        _redacting = new RedactingSink(redactor);
        _redacting.SetOutputs(new LoggerConfiguration().CreateLogger()); // no outputs: the walk only
        _build = new AccessLog(new LoggerConfiguration().CreateLogger());
    }

    [Benchmark(Baseline = true)]
    public void FormatSerilog() => _serilog.Format(_event, _output);

    [Benchmark]
    public void FormatLogLine() => _ours.Format(_event, _output);

    [Benchmark]
    public void RedactWalk() => _redacting.Emit(_event);

    [Benchmark]
    public void BuildAndDispatch() =>
        _build.Write("1a2b3c4d", "POST", "/v1/chat/completions", 200, 12.3456, "openai-compat", "work-key", null, "0HNQIJ569OCBT");

    private sealed class Capture : ILogEventSink
    {
        public LogEvent? Last { get; private set; }
        public void Emit(LogEvent logEvent) => Last = logEvent;
    }
}
