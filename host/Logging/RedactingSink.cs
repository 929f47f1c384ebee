using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Sits in front of every log output: masks known secrets in message templates, property values and exceptions,
/// then forwards to the current outputs (which can be swapped when <c>logging-to-file</c> or <c>debug</c> change).
/// </summary>
internal sealed class RedactingSink(SecretRedactor redactor) : ILogEventSink, IDisposable
{
    private static readonly MessageTemplateParser Parser = new();
    private volatile Logger? _outputs;

    /// <summary>Replaces the outputs; the previous ones are flushed and closed.</summary>
    public void SetOutputs(Logger outputs) => Interlocked.Exchange(ref _outputs, outputs)?.Dispose();

    public void Emit(LogEvent logEvent) => _outputs?.Write(Redact(logEvent));

    private LogEvent Redact(LogEvent e)
    {
        var template = e.MessageTemplate;
        if (redactor.Contains(template.Text)) template = Parser.Parse(redactor.Redact(template.Text));
        var exception = e.Exception is { } ex && redactor.Contains(ex.ToString()) ? new RedactedException(redactor.Redact(ex.ToString())) : e.Exception;
        var changed = !ReferenceEquals(template, e.MessageTemplate) || !ReferenceEquals(exception, e.Exception);
        // The common case (nothing secret) allocates nothing: the list is built only once a value changed.
        List<LogEventProperty>? properties = null;
        var index = 0;
        foreach (var (name, value) in e.Properties)
        {
            var redacted = Redact(value);
            if (properties is null && !ReferenceEquals(redacted, value))
            {
                properties = new List<LogEventProperty>(e.Properties.Count);
                foreach (var (earlierName, earlier) in e.Properties.Take(index)) properties.Add(new LogEventProperty(earlierName, earlier));
            }
            properties?.Add(new LogEventProperty(name, redacted));
            index++;
        }
        if (!changed && properties is null) return e;
        properties ??= [.. e.Properties.Select(p => new LogEventProperty(p.Key, p.Value))];
        return new LogEvent(e.Timestamp, e.Level, exception, template, properties, e.TraceId ?? default, e.SpanId ?? default);
    }

    private LogEventPropertyValue Redact(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string s } when redactor.Contains(s) => new ScalarValue(redactor.Redact(s)),
        ScalarValue { Value: { } other and not string } when other.GetType().IsClass && redactor.Contains(other.ToString()) => new ScalarValue(redactor.Redact(other.ToString()!)),
        SequenceValue seq => RedactSequence(seq),
        StructureValue structure => RedactStructure(structure),
        DictionaryValue dict => new DictionaryValue(dict.Elements.Select(kv => new KeyValuePair<ScalarValue, LogEventPropertyValue>(kv.Key, Redact(kv.Value)))),
        _ => value,
    };

    private SequenceValue RedactSequence(SequenceValue seq)
    {
        var items = seq.Elements.Select(Redact).ToList();
        return items.Where((v, i) => !ReferenceEquals(v, seq.Elements[i])).Any() ? new SequenceValue(items) : seq;
    }

    private StructureValue RedactStructure(StructureValue structure)
    {
        var props = structure.Properties.Select(p => new LogEventProperty(p.Name, Redact(p.Value))).ToList();
        return props.Where((p, i) => !ReferenceEquals(p.Value, structure.Properties[i].Value)).Any() ? new StructureValue(props, structure.TypeTag) : structure;
    }

    public void Dispose() => Interlocked.Exchange(ref _outputs, null)?.Dispose();

    /// <summary>Stands in for an exception whose text contained a secret.</summary>
    private sealed class RedactedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
        public override string? StackTrace => null;
    }
}
