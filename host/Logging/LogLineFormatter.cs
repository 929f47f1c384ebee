using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Renders <see cref="Template"/> byte for byte as Serilog's <see cref="MessageTemplateTextFormatter"/> does, cheaper:
/// the timestamp text is made once per second, the level and source context are written directly, and the access
/// line's fields (<see cref="AccessLog.MessageTemplate"/>) go straight to the writer. Any other message is rendered by
/// Serilog's formatter; an event it does not expect (a non-text source context, an unknown level) is rendered whole by it.
/// Stateless apart from the timestamp cache (an immutable snapshot), so the console and file writers can share one.
/// </summary>
internal sealed class LogLineFormatter : ITextFormatter
{
    internal const string Template = "[{Timestamp:yyyy-MM-dd HH:mm:ss}] [{Level:u3}] {SourceContext:l}: {Message:lj}{NewLine}{Exception}";
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    private static readonly MessageTemplateTextFormatter Whole = new(Template, CultureInfo.InvariantCulture);
    private static readonly MessageTemplateTextFormatter Rest = new("{Message:lj}{NewLine}{Exception}", CultureInfo.InvariantCulture);
    private static readonly MessageTemplateTextFormatter ExceptionOnly = new("{Exception}", CultureInfo.InvariantCulture);
    private static readonly string[] Levels = ["VRB", "DBG", "INF", "WRN", "ERR", "FTL"]; // Serilog's u3 monikers

    private sealed record Stamp(long Second, string Text);

    private volatile Stamp? _stamp;

    public void Format(LogEvent logEvent, TextWriter output)
    {
        string? source = null;
        if ((uint)logEvent.Level >= (uint)Levels.Length
            || (logEvent.Properties.TryGetValue(Constants.SourceContextPropertyName, out var sourceValue) && !IsText(sourceValue, out source)))
        {
            Whole.Format(logEvent, output);
            return;
        }
        var stamp = Timestamp(logEvent.Timestamp);
        var level = Levels[(int)logEvent.Level];
        if (TryWriteAccessLine(logEvent, stamp, level, source, output)) return;
        output.Write('[');
        output.Write(stamp);
        output.Write("] [");
        output.Write(level);
        output.Write("] ");
        if (source is not null) output.Write(source);
        output.Write(": ");
        Rest.Format(logEvent, output);
    }

    // The format has no offset, so the text depends only on the clock time's whole second.
    private string Timestamp(DateTimeOffset timestamp)
    {
        var second = timestamp.Ticks / TimeSpan.TicksPerSecond;
        var stamp = _stamp;
        if (stamp is null || stamp.Second != second)
            _stamp = stamp = new Stamp(second, timestamp.ToString(TimestampFormat, CultureInfo.InvariantCulture));
        return stamp.Text;
    }

    /// <summary>
    /// The whole access line (<c>{Message:lj}</c> of <see cref="AccessLog.MessageTemplate"/>), assembled on the stack and
    /// written at once; false, with nothing written, for any other event or one too long for the buffer.
    /// </summary>
    private static bool TryWriteAccessLine(LogEvent e, string stamp, string level, string? source, TextWriter output)
    {
        if (!ReferenceEquals(e.MessageTemplate, AccessLog.MessageTemplate)) return false;
        var p = e.Properties;
        if (!Text(p, AccessLog.RequestIdName, out var id) || !Text(p, AccessLog.MethodName, out var method) || !Text(p, AccessLog.PathName, out var path)
            || !p.TryGetValue(AccessLog.StatusName, out var statusValue) || statusValue is not ScalarValue { Value: int status }
            || !p.TryGetValue(AccessLog.ElapsedName, out var elapsedValue) || elapsedValue is not ScalarValue { Value: double elapsed }
            || !Text(p, AccessLog.ProviderName, out var provider) || !Text(p, AccessLog.CredentialName, out var credential) || !Text(p, AccessLog.TokensName, out var tokens))
            return false;
        Span<char> line = stackalloc char[1024];
        var writer = new SpanWriter(line);
        writer.Append('[');
        writer.Append(stamp);
        writer.Append("] [");
        writer.Append(level);
        writer.Append("] ");
        writer.Append(source);
        writer.Append(": [");
        writer.Append(id);
        writer.Append("] ");
        writer.Append(method);
        writer.Append(' ');
        writer.Append(path);
        writer.Append(" -> ");
        writer.Append(status, null);
        writer.Append(" in ");
        writer.Append(elapsed, "0");
        writer.Append(" ms provider=");
        writer.Append(provider);
        writer.Append(" credential=");
        writer.Append(credential);
        writer.Append(" tokens=");
        writer.Append(tokens);
        writer.Append(Environment.NewLine);
        if (writer.Overflowed) return false;
        output.Write(line[..writer.Length]);
        if (e.Exception is not null) ExceptionOnly.Format(e, output);
        return true;
    }

    /// <summary>Appends to a fixed span; once something does not fit, it only remembers that.</summary>
    private ref struct SpanWriter(Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;

        public int Length { get; private set; }
        public bool Overflowed { get; private set; }

        public void Append(char c)
        {
            if (Length < _buffer.Length) _buffer[Length++] = c;
            else Overflowed = true;
        }

        public void Append(string? text)
        {
            if (text is null) return;
            if (text.TryCopyTo(_buffer[Length..])) Length += text.Length;
            else Overflowed = true;
        }

        public void Append<T>(T value, string? format) where T : ISpanFormattable
        {
            if (value.TryFormat(_buffer[Length..], out var written, format, CultureInfo.InvariantCulture)) Length += written;
            else Overflowed = true;
        }
    }

    private static bool Text(IReadOnlyDictionary<string, LogEventPropertyValue> properties, string name, out string text)
    {
        text = "";
        return properties.TryGetValue(name, out var value) && IsText(value, out text!);
    }

    private static bool IsText(LogEventPropertyValue value, out string? text)
    {
        text = (value as ScalarValue)?.Value as string;
        return text is not null;
    }
}
