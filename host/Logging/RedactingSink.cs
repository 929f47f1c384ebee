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
    // The last message template found clean, with the secret set it was checked against: most events are access lines
    // with one template, so its text is scanned once per secret set rather than once per request.
    private volatile CleanTemplate? _clean;

    private sealed record CleanTemplate(MessageTemplate Template, object Secrets);

    /// <summary>Replaces the outputs; the previous ones are flushed and closed.</summary>
    public void SetOutputs(Logger outputs) => Interlocked.Exchange(ref _outputs, outputs)?.Dispose();

    public void Emit(LogEvent logEvent) => _outputs?.Write(Redact(logEvent));

    private LogEvent Redact(LogEvent e)
    {
        var template = e.MessageTemplate;
        var secrets = redactor.Version;
        if (_clean is not { } clean || !ReferenceEquals(clean.Template, template) || !ReferenceEquals(clean.Secrets, secrets))
        {
            if (redactor.Contains(template.Text)) template = Parser.Parse(redactor.Redact(template.Text));
            else _clean = new CleanTemplate(template, secrets);
        }
        var exception = e.Exception is { } ex && redactor.Contains(ex.ToString()) ? new RedactedException(redactor.Redact(ex.ToString())) : e.Exception;
        var changed = !ReferenceEquals(template, e.MessageTemplate) || !ReferenceEquals(exception, e.Exception);
        // The common case (nothing secret) allocates nothing: the list is built only once a value changed, and Serilog's
        // property dictionary is walked with its struct enumerator.
        List<LogEventProperty>? properties = null;
        var index = 0;
        if (e.Properties is Dictionary<string, LogEventPropertyValue> dictionary)
            foreach (var (name, value) in dictionary) RedactProperty(e, name, value, index++, ref properties);
        else
            foreach (var (name, value) in e.Properties) RedactProperty(e, name, value, index++, ref properties);
        if (!changed && properties is null) return e;
        properties ??= [.. e.Properties.Select(p => new LogEventProperty(p.Key, p.Value))];
        return new LogEvent(e.Timestamp, e.Level, exception, template, properties, e.TraceId ?? default, e.SpanId ?? default);
    }

    private void RedactProperty(LogEvent e, string name, LogEventPropertyValue value, int index, ref List<LogEventProperty>? properties)
    {
        var redacted = Redact(value);
        if (properties is null && !ReferenceEquals(redacted, value))
        {
            properties = new List<LogEventProperty>(e.Properties.Count);
            foreach (var (earlierName, earlier) in e.Properties)
            {
                if (properties.Count == index) break;
                properties.Add(new LogEventProperty(earlierName, earlier));
            }
        }
        properties?.Add(new LogEventProperty(name, redacted));
    }

    private LogEventPropertyValue Redact(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string s } when redactor.Contains(s) => new ScalarValue(redactor.Redact(s)),
        ScalarValue { Value: { } other and not string } when other.GetType().IsClass && redactor.Contains(other.ToString()) => new ScalarValue(redactor.Redact(other.ToString()!)),
        SequenceValue seq => RedactSequence(seq),
        StructureValue structure => RedactStructure(structure),
        DictionaryValue dict => RedactDictionary(dict),
        _ => value,
    };

    // The composite values below are rebuilt only when an element changed (EventId is a structure on most lines).
    private SequenceValue RedactSequence(SequenceValue seq)
    {
        var elements = seq.Elements;
        LogEventPropertyValue[]? items = null;
        for (var i = 0; i < elements.Count; i++)
        {
            var redacted = Redact(elements[i]);
            if (items is null)
            {
                if (ReferenceEquals(redacted, elements[i])) continue;
                items = new LogEventPropertyValue[elements.Count];
                for (var j = 0; j < i; j++) items[j] = elements[j];
            }
            items[i] = redacted;
        }
        return items is null ? seq : new SequenceValue(items);
    }

    private StructureValue RedactStructure(StructureValue structure)
    {
        var properties = structure.Properties;
        LogEventProperty[]? props = null;
        for (var i = 0; i < properties.Count; i++)
        {
            var redacted = Redact(properties[i].Value);
            if (props is null)
            {
                if (ReferenceEquals(redacted, properties[i].Value)) continue;
                props = new LogEventProperty[properties.Count];
                for (var j = 0; j < i; j++) props[j] = properties[j];
            }
            props[i] = ReferenceEquals(redacted, properties[i].Value) ? properties[i] : new LogEventProperty(properties[i].Name, redacted);
        }
        return props is null ? structure : new StructureValue(props, structure.TypeTag);
    }

    private DictionaryValue RedactDictionary(DictionaryValue dict)
    {
        var any = false;
        foreach (var (_, value) in dict.Elements)
            if (!ReferenceEquals(Redact(value), value))
            {
                any = true;
                break;
            }
        return any ? new DictionaryValue(dict.Elements.Select(kv => new KeyValuePair<ScalarValue, LogEventPropertyValue>(kv.Key, Redact(kv.Value)))) : dict;
    }

    public void Dispose() => Interlocked.Exchange(ref _outputs, null)?.Dispose();

    /// <summary>Stands in for an exception whose text contained a secret.</summary>
    private sealed class RedactedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
        public override string? StackTrace => null;
    }
}
