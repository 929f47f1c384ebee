using System.Text;
using System.Threading.Channels;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The console output when stdout is redirected (a service, a container, a pipe): events are queued by the request
/// thread and written by one background task through a buffered writer that is flushed when the queue runs empty, so
/// a busy server writes many lines per system call and no request waits on the console. Bounded: past
/// <see cref="Capacity"/> queued events new ones are dropped (and counted in a line) rather than growing memory or
/// blocking requests. Disposing drains what is queued.
/// </summary>
internal sealed class BatchedConsoleSink : ILogEventSink, IDisposable
{
    internal const int Capacity = 10_000;

    private readonly Channel<LogEvent> _queue = Channel.CreateBounded<LogEvent>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ITextFormatter _formatter;
    private readonly TextWriter _output;
    private readonly Task _writer;
    private long _dropped;

    /// <param name="leaveOpen">Keep <paramref name="output"/> open on dispose (a stream the caller owns and reads).</param>
    public BatchedConsoleSink(ITextFormatter formatter, Stream? output = null, bool leaveOpen = false)
    {
        _formatter = formatter;
        _output = new StreamWriter(output ?? Console.OpenStandardOutput(), new UTF8Encoding(false), 32 * 1024, leaveOpen) { AutoFlush = false };
        _writer = Task.Run(WriteAsync);
    }

    public void Emit(LogEvent logEvent)
    {
        if (!_queue.Writer.TryWrite(logEvent)) Interlocked.Increment(ref _dropped);
    }

    private async Task WriteAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (reader.TryRead(out var logEvent)) _formatter.Format(logEvent, _output);
                if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
                    _output.WriteLine($"[{DateTime.Now:yyyy-MM-dd HH:mm:ss}] [WRN] {dropped} log events were dropped: the console could not keep up.");
                _output.Flush();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // stdout went away (a closed pipe) or an event would not render: the writer keeps serving later events.
            }
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        try
        {
            _writer.Wait(TimeSpan.FromSeconds(5));
            _output.Dispose();
        }
        catch (Exception e) when (e is IOException or AggregateException or ObjectDisposedException)
        {
            // Shutting down: a console that cannot take the last lines is not worth an exception.
        }
    }
}
