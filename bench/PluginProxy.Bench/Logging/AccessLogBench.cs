using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Security;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace PluginProxy.Bench.Logging;

/// <summary>
/// The whole access-log cost of one request on the proxy's core: the line emitted through the real pipeline built by
/// <see cref="LogSetup"/> (level check, enrichment, <see cref="RedactingSink"/> with 40 configured secrets) and formatted,
/// synchronously here, to a null stream as the console writer does. <c>MelLoggerMessage</c> (baseline) is the path
/// before 2026-12-05: a [LoggerMessage] through Serilog.Extensions.Logging, rendered by Serilog's
/// MessageTemplateTextFormatter. <c>DirectEvent</c> is <see cref="Host.Logging.AccessLog"/> + <see cref="LogLineFormatter"/>.
/// Both run through the current RedactingSink (its allocation-free walk helps the baseline too).
/// </summary>
[MemoryDiagnoser]
public class AccessLogBench
{
    private readonly Usage _usage = new() { InputTokens = 1234, OutputTokens = 56 };
    private LogSetup _old = null!, _new = null!;
    private ILoggerFactory _factory = null!;
    private Microsoft.Extensions.Logging.ILogger _melLogger = null!;

    [GlobalSetup]
    public void Setup()
    {
        var keys = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"\"sk-bench-secret-{i:D4}-{Guid.NewGuid():N}\""));
        var loaded = ConfigLoader.Parse($"api-keys: [{keys}]\n");
        var redactor = new SecretRedactor();
        redactor.Update(loaded.Config, CredentialSnapshot.Empty, loaded.Json);
        _old = new LogSetup(redactor, console: _ => new SyncSink(new MessageTemplateTextFormatter(LogLineFormatter.Template, CultureInfo.InvariantCulture)));
        _old.Apply(loaded);
        _new = new LogSetup(redactor, console: f => new SyncSink(f));
        _new.Apply(loaded);
        _factory = LoggerFactory.Create(b => b.AddProvider(new SerilogLoggerProvider(_old.Logger)));
        _melLogger = _factory.CreateLogger(Host.Logging.AccessLog.Category);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _factory.Dispose();
        _old.Dispose();
        _new.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void MelLoggerMessage()
    {
        // What the [LoggerMessage] generator emits for eight parameters: an enabled check, a state struct, Log.
        if (!_melLogger.IsEnabled(LogLevel.Information)) return;
        var state = new LogRequestState("1a2b3c4d", "POST", "/v1/chat/completions", 200, 12.3456, "openai-compat", "work-key", $"{_usage.InputTokens}/{_usage.OutputTokens}");
        _melLogger.Log(LogLevel.Information, new EventId(1330097018, "LogRequest"), state, null, LogRequestState.Format);
    }

    [Benchmark]
    public void DirectEvent() =>
        _new.AccessLog.Write("1a2b3c4d", "POST", "/v1/chat/completions", 200, 12.3456, "openai-compat", "work-key", _usage, "0HNQIJ569OCBT");

    private readonly struct LogRequestState(string id, string method, string path, int status, double elapsed, string provider, string credential, string tokens)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public static readonly Func<LogRequestState, Exception?, string> Format = (s, _) =>
            string.Create(CultureInfo.InvariantCulture, $"[{s[0].Value}] {s[1].Value} {s[2].Value} -> {s[3].Value} in {s.Elapsed:0} ms provider={s[5].Value} credential={s[6].Value} tokens={s[7].Value}");

        private double Elapsed => elapsed;
        public int Count => 9;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("ProxyRequestId", id),
            1 => new("Method", method),
            2 => new("Path", path),
            3 => new("Status", status),
            4 => new("Elapsed", elapsed),
            5 => new("Provider", provider),
            6 => new("Credential", credential),
            7 => new("Tokens", tokens),
            8 => new("{OriginalFormat}", Host.Logging.AccessLog.Template),
            _ => throw new IndexOutOfRangeException(),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Formats on the caller's thread (the batched console writer does the same work on its task).</summary>
    private sealed class SyncSink(ITextFormatter formatter) : ILogEventSink
    {
        private readonly StreamWriter _output = new(Stream.Null, new UTF8Encoding(false), 32 * 1024);

        public void Emit(LogEvent logEvent) => formatter.Format(logEvent, _output);
    }
}
