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
        output.Write('[');
        output.Write(Timestamp(logEvent.Timestamp));
        output.Write("] [");
        output.Write(Levels[(int)logEvent.Level]);
        output.Write("] ");
        if (source is not null) output.Write(source);
        output.Write(": ");
        if (!TryWriteAccessLine(logEvent, output))
        {
            Rest.Format(logEvent, output);
            return;
        }
        output.Write(Environment.NewLine);
        if (logEvent.Exception is not null) ExceptionOnly.Format(logEvent, output);
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

    /// <summary>The access line's message as <c>{Message:lj}</c> renders it; false (nothing written) for any other event.</summary>
    private static bool TryWriteAccessLine(LogEvent e, TextWriter output)
    {
        if (!ReferenceEquals(e.MessageTemplate, AccessLog.MessageTemplate)) return false;
        var p = e.Properties;
        if (!Text(p, AccessLog.RequestIdName, out var id) || !Text(p, AccessLog.MethodName, out var method) || !Text(p, AccessLog.PathName, out var path)
            || !p.TryGetValue(AccessLog.StatusName, out var statusValue) || statusValue is not ScalarValue { Value: int status }
            || !p.TryGetValue(AccessLog.ElapsedName, out var elapsedValue) || elapsedValue is not ScalarValue { Value: double elapsed }
            || !Text(p, AccessLog.ProviderName, out var provider) || !Text(p, AccessLog.CredentialName, out var credential) || !Text(p, AccessLog.TokensName, out var tokens))
            return false;
        Span<char> number = stackalloc char[64];
        if (!status.TryFormat(number, out var statusLength, default, CultureInfo.InvariantCulture)) return false;
        var elapsedText = number[statusLength..];
        if (!elapsed.TryFormat(elapsedText, out var elapsedLength, "0", CultureInfo.InvariantCulture)) return false;
        output.Write('[');
        output.Write(id);
        output.Write("] ");
        output.Write(method);
        output.Write(' ');
        output.Write(path);
        output.Write(" -> ");
        output.Write(number[..statusLength]);
        output.Write(" in ");
        output.Write(elapsedText[..elapsedLength]);
        output.Write(" ms provider=");
        output.Write(provider);
        output.Write(" credential=");
        output.Write(credential);
        output.Write(" tokens=");
        output.Write(tokens);
        return true;
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
