using System.Globalization;
using PluginProxy.Host.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;

namespace PluginProxy.Tests.Host.Logging;

/// <summary>The console and file formatter renders every event exactly as Serilog's formatter does for the same template.</summary>
public sealed class LogLineFormatterTests
{
    private static readonly MessageTemplateTextFormatter Serilogs = new(LogLineFormatter.Template, CultureInfo.InvariantCulture);
    private static readonly MessageTemplateParser Parser = new();
    private static readonly DateTimeOffset At = new(2026, 12, 5, 6, 30, 49, 787, TimeSpan.FromHours(1));

    public static TheoryData<string> Cases => [.. Events().Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_is_identical_to_Serilogs_formatter(string name)
    {
        var formatter = new LogLineFormatter();
        var e = Events()[name];
        // Twice: the second rendering comes from the timestamp cache.
        Assert.Equal(Render(Serilogs, e), Render(formatter, e));
        Assert.Equal(Render(Serilogs, e), Render(formatter, e));
    }

    [Fact]
    public void The_cached_timestamp_moves_with_the_second_and_ignores_the_offset()
    {
        var formatter = new LogLineFormatter();
        foreach (var at in new[] { At, At.AddMilliseconds(100), At.AddSeconds(1), At.AddSeconds(-5), At.ToOffset(TimeSpan.FromHours(-7)), At.AddDays(40) })
        {
            var e = new LogEvent(at, LogEventLevel.Information, null, Parser.Parse("tick"), []);
            Assert.Equal(Render(Serilogs, e), Render(formatter, e));
            Assert.StartsWith($"[{at:yyyy-MM-dd HH:mm:ss}]", Render(formatter, e));
        }
    }

    [Fact]
    public void The_access_line_for_a_sample_request_is_exactly_the_old_line()
    {
        var e = AccessEvent();
        Assert.Equal("[2026-12-05 06:30:49] [INF] PluginProxy.Host.Logging.RequestLogMiddleware: [daa6f478] POST /v1/chat/completions -> 200 in 41 ms "
            + "provider=openai-compat credential=work key tokens=1234/56" + Environment.NewLine, Render(new LogLineFormatter(), e));
    }

    private static string Render(Serilog.Formatting.ITextFormatter formatter, LogEvent e)
    {
        var output = new StringWriter();
        formatter.Format(e, output);
        return output.ToString();
    }

    // The access event as AccessLog builds it, captured from a logger.
    private static LogEvent AccessEvent(string path = "/v1/chat/completions", double elapsed = 41.4714, int status = 200, Exception? exception = null)
    {
        var capture = new Capture();
        using var logger = new LoggerConfiguration().WriteTo.Sink(capture).CreateLogger();
        new AccessLog(logger).Write("daa6f478", "POST", path, status, elapsed, "openai-compat", "work key",
            new PluginProxy.Abstractions.Canonical.Usage { InputTokens = 1234, OutputTokens = 56 }, "0HNQIJ569OCBT");
        var e = Assert.Single(capture.Events);
        return new LogEvent(At, e.Level, exception, e.MessageTemplate, e.Properties.Select(p => new LogEventProperty(p.Key, p.Value)));
    }

    private static Dictionary<string, LogEvent> Events()
    {
        LogEvent Generic(string template, LogEventLevel level = LogEventLevel.Information, Exception? exception = null, params (string, LogEventPropertyValue)[] properties) =>
            new(At, level, exception, Parser.Parse(template), properties.Select(p => new LogEventProperty(p.Item1, p.Item2)));
        var source = ("SourceContext", (LogEventPropertyValue)new ScalarValue("PluginProxy.Host.Credentials.CredentialStore"));
        Exception thrown;
        try
        {
            throw new InvalidOperationException("boom \"quoted\"");
        }
        catch (Exception e)
        {
            thrown = e;
        }
        var events = new Dictionary<string, LogEvent>
        {
            ["access line"] = AccessEvent(),
            ["access line, odd path and rounding"] = AccessEvent("/v1beta/models/gemini:generateContent \"x\" é", 0.5, 499),
            ["access line, big elapsed and status"] = AccessEvent("/", 123456789.987, 1000),
            ["access line with an exception"] = AccessEvent(exception: thrown),
            ["access line, redacted template (another instance)"] = new(At, LogEventLevel.Information, null, Parser.Parse(AccessLog.Template), AccessEvent().Properties.Select(p => new LogEventProperty(p.Key, p.Value))),
            ["access line, status as text"] = new(At, LogEventLevel.Information, null, AccessLog.MessageTemplate, AccessEvent().Properties.Select(p => new LogEventProperty(p.Key, p.Key == "Status" ? new ScalarValue("200") : p.Value))),
            ["access line, path missing"] = new(At, LogEventLevel.Information, null, AccessLog.MessageTemplate, AccessEvent().Properties.Where(p => p.Key != "Path").Select(p => new LogEventProperty(p.Key, p.Value))),
            ["access line, provider null"] = new(At, LogEventLevel.Information, null, AccessLog.MessageTemplate, AccessEvent().Properties.Select(p => new LogEventProperty(p.Key, p.Key == "Provider" ? new ScalarValue(null) : p.Value))),
            ["text property needs no quotes (lj)"] = Generic("{Count} credentials loaded; watching {Dir}", LogEventLevel.Information, null, ("Count", new ScalarValue(3)), ("Dir", new ScalarValue("/tmp/a \"b\"")), source),
            ["structured values as JSON"] = Generic("{Seq} {Obj} {Dict}", LogEventLevel.Warning, null,
                ("Seq", new SequenceValue([new ScalarValue(1), new ScalarValue("two")])),
                ("Obj", new StructureValue([new LogEventProperty("Id", new ScalarValue(14)), new LogEventProperty("Name", new ScalarValue("x"))], "Tag")),
                ("Dict", new DictionaryValue([new(new ScalarValue("k"), new ScalarValue(2.5))])), source),
            ["missing property, format and alignment"] = Generic("{Missing} {Value,8:0.00} {Left,-6}|", LogEventLevel.Debug, null, ("Value", new ScalarValue(3.14159)), ("Left", new ScalarValue("ab")), source),
            ["no source context"] = Generic("Application started.", LogEventLevel.Information),
            ["source context not text"] = Generic("x", LogEventLevel.Information, null, ("SourceContext", new ScalarValue(new Uri("http://context.test/")))),
            ["source context null"] = Generic("x", LogEventLevel.Information, null, ("SourceContext", new ScalarValue(null))),
            ["an exception"] = Generic("[{ProxyRequestId}] Unhandled exception", LogEventLevel.Error, thrown, ("ProxyRequestId", new ScalarValue("0badc0de")), source),
            ["an unknown level"] = Generic("odd", (LogEventLevel)9, null, source),
        };
        foreach (var level in Enum.GetValues<LogEventLevel>()) events[$"level {level}"] = Generic("level", level, null, source);
        return events;
    }

    private sealed class Capture : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];
        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }
}
