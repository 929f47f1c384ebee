using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Security;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace PluginProxy.Tests.Host.Logging;

/// <summary>The sink in front of every output: masks secrets anywhere in an event, passes clean events through untouched.</summary>
public sealed class RedactingSinkTests
{
    private const string Secret = "sk-sink-SECRET-42aa";

    [Fact]
    public void A_clean_event_is_passed_on_as_is()
    {
        var (sink, outputs) = Sink(Secret);
        var e = Event("[{Id}] {Path} {Obj} {Seq} {Dict}", ("Id", new ScalarValue("x")), ("Path", new ScalarValue("/v1/models")), ("Obj", Structure("fine")),
            ("Seq", new SequenceValue([new ScalarValue("a")])), ("Dict", new DictionaryValue([new(new ScalarValue("k"), new ScalarValue("v"))])));
        sink.Emit(e);
        Assert.Same(e, Assert.Single(outputs.Events));
    }

    [Fact]
    public void Secrets_in_nested_values_are_masked_and_the_rest_is_kept()
    {
        var (sink, outputs) = Sink(Secret);
        var clean = new ScalarValue("clean");
        sink.Emit(Event("{A} {Obj} {Seq} {Dict}", ("A", clean), ("Obj", Structure($"in {Secret}")),
            ("Seq", new SequenceValue([new ScalarValue("a"), new ScalarValue(Secret)])), ("Dict", new DictionaryValue([new(new ScalarValue("k"), new ScalarValue(Secret + "!"))]))));

        var e = Assert.Single(outputs.Events);
        Assert.Equal(["A", "Obj", "Seq", "Dict"], e.Properties.Keys);
        Assert.Same(clean, e.Properties["A"]);
        Assert.Equal("\"clean\" { Id: 7, Name: \"in [REDACTED]\" } [\"a\", \"[REDACTED]\"] [(\"k\": \"[REDACTED]!\")]", e.RenderMessage());
        Assert.DoesNotContain(Secret, e.RenderMessage());
    }

    [Fact]
    public void A_template_found_clean_is_checked_again_once_the_secrets_change()
    {
        var redactor = new SecretRedactor();
        var (sink, outputs) = Sink(redactor);
        var template = new MessageTemplateParser().Parse($"calling with {Secret} now");
        sink.Emit(new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, template, []));
        Update(redactor, Secret);
        sink.Emit(new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, template, []));

        Assert.Equal([$"calling with {Secret} now", "calling with [REDACTED] now"], outputs.Events.Select(e => e.RenderMessage()));
    }

    private static StructureValue Structure(string name) =>
        new([new LogEventProperty("Id", new ScalarValue(7)), new LogEventProperty("Name", new ScalarValue(name))]);

    private static LogEvent Event(string template, params (string Name, LogEventPropertyValue Value)[] properties) =>
        new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, new MessageTemplateParser().Parse(template), properties.Select(p => new LogEventProperty(p.Name, p.Value)));

    private static (RedactingSink, Capture) Sink(string secret)
    {
        var redactor = new SecretRedactor();
        Update(redactor, secret);
        return Sink(redactor);
    }

    private static (RedactingSink, Capture) Sink(SecretRedactor redactor)
    {
        var capture = new Capture();
        var sink = new RedactingSink(redactor);
        sink.SetOutputs(new LoggerConfiguration().WriteTo.Sink(capture).CreateLogger());
        return (sink, capture);
    }

    private static void Update(SecretRedactor redactor, string secret)
    {
        var loaded = ConfigLoader.Parse($"api-keys: [\"{secret}\"]\n");
        redactor.Update(loaded.Config, CredentialSnapshot.Empty, loaded.Json);
    }

    private sealed class Capture : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];
        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }
}
