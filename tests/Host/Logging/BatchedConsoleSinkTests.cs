using System.Text;
using PluginProxy.Host.Logging;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;

namespace PluginProxy.Tests.Host.Logging;

/// <summary>The console writer off the request path: every event reaches the output, in order, by the time it is disposed.</summary>
public sealed class BatchedConsoleSinkTests
{
    [Fact]
    public void Events_are_written_in_order_and_drained_on_dispose()
    {
        var output = new MemoryStream();
        var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message:lj}{NewLine}"), output);
        for (var i = 0; i < 500; i++) sink.Emit(Event($"line {i}"));
        sink.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"line {i}"), lines);
    }

    [Fact]
    public void An_event_emitted_after_dispose_is_dropped_without_an_exception()
    {
        var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message:lj}{NewLine}"), new MemoryStream());
        sink.Dispose();
        sink.Emit(Event("late"));
    }

    private static LogEvent Event(string text) =>
        new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, new MessageTemplateParser().Parse(text), []);
}
