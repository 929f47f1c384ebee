using System.Diagnostics;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The access-log line, built as a Serilog event directly instead of through Microsoft.Extensions.Logging (whose
/// state binding cost a dictionary resize, boxed numbers and a scope walk per request). The event carries what the MEL
/// path gave it (the template's properties, <c>EventId</c>, <c>SourceContext</c>, Kestrel's <c>ConnectionId</c>) and
/// goes through the same pipeline, so every output (console, file, test sinks) sees the same line.
/// <see cref="LogLineFormatter"/> recognises <see cref="MessageTemplate"/> and writes the fields straight out.
/// </summary>
internal sealed class AccessLog
{
    internal const string Template = "[{ProxyRequestId}] {Method} {Path} -> {Status} in {Elapsed:0} ms provider={Provider} credential={Credential} tokens={Tokens}";
    internal const string Category = "PluginProxy.Host.Logging.RequestLogMiddleware";

    // Property names, in the order the MEL path added them. "ProxyRequestId": ASP.NET's logging scope owns "RequestId".
    internal const string RequestIdName = "ProxyRequestId", MethodName = "Method", PathName = "Path", StatusName = "Status", ElapsedName = "Elapsed",
        ProviderName = "Provider", CredentialName = "Credential", TokensName = "Tokens", EventIdName = "EventId", ConnectionIdName = "ConnectionId";

    /// <summary>Parsed once; the formatter's fast path keys on this instance.</summary>
    internal static readonly MessageTemplate MessageTemplate = new MessageTemplateParser().Parse(Template);

    // What [LoggerMessage] gave the old LogRequest method (its generator derives the id from the method name).
    private static readonly StructureValue EventId = new([new LogEventProperty("Id", new ScalarValue(1330097018)), new LogEventProperty("Name", new ScalarValue("LogRequest"))]);
    private static readonly ScalarValue SourceContext = new(Category);
    private static readonly ScalarValue Dash = new("-");
    private static readonly ScalarValue Get = new("GET"), Post = new("POST");
    private static readonly ScalarValue?[] Statuses = new ScalarValue?[600];

    private readonly Serilog.ILogger _logger;
    // The last value of fields that repeat (one provider and credential serve many requests; keep-alive connections).
    private ScalarValue _provider = Dash, _credential = Dash, _connection = Dash;

    /// <param name="logger">The root logger of <see cref="LogSetup"/> (level switch, overrides, enrichers, redaction, outputs).</param>
    public AccessLog(Serilog.ILogger logger) =>
        _logger = logger.ForContext(Constants.SourceContextPropertyName, Category); // the per-category level overrides apply as before

    /// <summary>False when Information is off: the caller skips building anything.</summary>
    public bool IsEnabled => _logger.IsEnabled(LogEventLevel.Information);

    /// <summary>Writes one access line. <paramref name="provider"/> and <paramref name="credential"/> null print as <c>-</c>.</summary>
    public void Write(string requestId, string method, string path, int status, double elapsedMs, string? provider, string? credential, Usage? tokens, string? connectionId)
    {
        if (!_logger.IsEnabled(LogEventLevel.Information)) return;
        var properties = new Dictionary<string, LogEventPropertyValue>(11)
        {
            [RequestIdName] = new ScalarValue(requestId),
            [MethodName] = Method(method),
            [PathName] = new ScalarValue(path),
            [StatusName] = Status(status),
            [ElapsedName] = new ScalarValue(elapsedMs),
            [ProviderName] = provider is null ? Dash : Reuse(ref _provider, provider),
            [CredentialName] = credential is null ? Dash : Reuse(ref _credential, credential),
            [TokensName] = tokens is null ? Dash : new ScalarValue(Tokens(tokens)),
            [EventIdName] = EventId,
            [Constants.SourceContextPropertyName] = SourceContext,
        };
        if (connectionId is not null) properties[ConnectionIdName] = Reuse(ref _connection, connectionId);
        var activity = Activity.Current;
        _logger.Write(LogEvent.UnstableAssembleFromParts(DateTimeOffset.Now, LogEventLevel.Information, null, MessageTemplate, properties,
            activity?.TraceId ?? default, activity?.SpanId ?? default));
    }

    private static ScalarValue Method(string method) =>
        ReferenceEquals(method, Microsoft.AspNetCore.Http.HttpMethods.Post) ? Post
        : ReferenceEquals(method, Microsoft.AspNetCore.Http.HttpMethods.Get) ? Get
        : new ScalarValue(method);

    // Equal text, not just the same instance: labels may be rebuilt per request. A race only replaces the cached value.
    private static ScalarValue Reuse(ref ScalarValue last, string text)
    {
        var cached = Volatile.Read(ref last);
        if (cached.Value is string value && string.Equals(value, text, StringComparison.Ordinal)) return cached;
        var fresh = new ScalarValue(text);
        Volatile.Write(ref last, fresh);
        return fresh;
    }

    // Scalar values are immutable: one per status code, made on first use (a race only makes a spare).
    private static ScalarValue Status(int status) =>
        (uint)status < (uint)Statuses.Length ? Statuses[status] ??= new ScalarValue(status) : new ScalarValue(status);

    // As the interpolated string of the old line (current culture).
    private static string Tokens(Usage usage) => $"{usage.InputTokens}/{usage.OutputTokens}";
}
