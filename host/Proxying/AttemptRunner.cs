using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Models;
using PluginProxy.Host.Payload;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;
using PluginProxy.Host.Upstream;
using PluginProxy.Sdk.Failures;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// One attempt with one credential: passthrough when the provider speaks the client's dialect, otherwise decode once
/// to canonical, execute, and encode back. Returns what happened as an <see cref="AttemptResult"/>; exceptions are
/// mapped to results in one place (<see cref="Classify"/>), so upstream failures, client disconnects and bugs never
/// get mixed up.
/// </summary>
internal sealed partial class AttemptRunner(HttpClientPool httpClients, TimeProvider clock, SecretRedactor redactor, CredentialUpdate updateCredential,
    PluginLogs pluginLogs, ILoggerFactory loggerFactory)
{
    // Client headers a plugin may forward (never auth): Anthropic betas, OpenAI betas, and the Codex CLI's session and
    // turn headers (chatgpt-account-id is not among them: the account comes from the credential).
    private static readonly string[] ForwardedClientHeaders =
    [
        "anthropic-beta", "anthropic-version", "openai-beta", "user-agent", "x-goog-api-client",
        "originator", "version", "session_id", "conversation_id", "x-codex-turn-state", "x-codex-window-id", "x-client-request-id", "x-codex-beta-features",
    ];

    private readonly ILogger _logger = loggerFactory.CreateLogger<AttemptRunner>();

    public async Task<AttemptResult> RunAsync(ProxyRequest request, PluginSet plugins, ModelRoute route)
    {
        // passthrough-headers: an attempt that fails before its answer starts takes its headers back (failover serves elsewhere).
        var copy = request.Config.Config.PassthroughHeaders ? new PassthroughHeaders.AttemptCopy(request.Http.Response) : null;
        request.ResponseId = null; // learned anew by the attempt that serves
        var result = await RunAttemptAsync(request, plugins, route, copy);
        if (result.Outcome is AttemptOutcome.FailedBeforeStart or AttemptOutcome.NoProvider) copy?.Undo();
        return result;
    }

    private async Task<AttemptResult> RunAttemptAsync(ProxyRequest request, PluginSet plugins, ModelRoute route, PassthroughHeaders.AttemptCopy? copy)
    {
        var provider = plugins.ProviderFor(route.Credential.Type);
        if (provider is null) return AttemptResult.NoProvider;
        if (request.Http.Features.Get<RequestTrace>() is { } trace)
        {
            trace.Provider = provider.Id;
            trace.Credential = route.Credential.Label;
            trace.CredentialId = route.Credential.Id;
        }
        var started = new StartFlag();
        try
        {
            var call = CreateCall(request, route, provider, copy); // inside: TransportFor is plugin code
            if (request.Client.AllowsPassthrough && provider.NativeDialect == request.Client.Dialect && call.ReasoningSuffix is null)
                return await PassthroughRelay.RelayAsync(request, provider, call, started, redactor, LogStreamFailed);

            if (request.Endpoint.PassthroughOnly)
            {
                // Try the next candidate: another account's provider may speak the client's dialect.
                return new AttemptResult(AttemptOutcome.FailedBeforeStart, new UpstreamException(FailureKind.ModelNotFound, 501,
                    $"'{request.Http.Request.Path}' is served only by accounts whose provider speaks {request.Client.Dialect} natively (Codex); '{provider.Id}' does not."),
                    null, CoolDown: false);
            }
            var canonical = request.Canonical ??= await DecodeOrNullAsync(request);
            if (canonical is null) return AttemptResult.Answered;
            canonical.Reasoning = WithSuffix(request.ClientReasoning, call.ReasoningSuffix); // per attempt: routes may carry their own suffix
            var executor = provider.Executor;
            switch (request.Endpoint.Operation, request.Stream)
            {
                case (Operation.CountTokens, _):
                    long count;
                    try
                    {
                        count = await executor.CountTokensAsync(call, canonical, request.Aborted);
                    }
                    catch (Exception e) when (Classify(e, request, provider, started) is { Outcome: AttemptOutcome.FailedBeforeStart } failed)
                    {
                        return failed with { CoolDown = false }; // a token count says nothing about the account
                    }
                    await ErrorWriter.WriteJsonAsync(request.Http, 200, request.Client.Codec.EncodeTokenCount(count));
                    return AttemptResult.Served;
                case (_, false):
                    // An upstream that only streams serves non-streaming clients from its aggregated stream.
                    var work = executor.StreamsOnly
                        ? StreamAggregator.AggregateAsync(executor.StreamAsync(call, canonical, request.Aborted), request.Aborted)
                        : executor.CompleteAsync(call, canonical, request.Aborted);
                    var answer = await KeepAlive.AwaitAsync(request, work, clock);
                    started.Set();
                    answer.Model = request.ResponseModel ?? (string.IsNullOrEmpty(answer.Model) ? request.ClientModel : answer.Model);
                    if (request.LearnsResponseId) request.ResponseId = answer.Id = ResponseIds.Normalize(answer.Id); // the id the client gets
                    ObserveUsage(request, answer.Usage);
                    await ErrorWriter.WriteJsonAsync(request.Http, 200, request.Client.Encode(answer, canonical));
                    return AttemptResult.Served;
                default:
                    return await TranslatedStream.WriteAsync(request, provider, call, canonical, started, clock, redactor, LogStreamFailed);
            }
        }
        catch (Exception e)
        {
            var result = Classify(e, request, provider, started);
            // A token count says nothing about the account, passthrough or not.
            if (request.Endpoint.Operation == Operation.CountTokens && result.Outcome == AttemptOutcome.FailedBeforeStart) result = result with { CoolDown = false };
            return await ResultOfAsync(result, e, request, provider);
        }
    }

    /// <summary>Maps an exception from an attempt to its result. The single place that decides what a failure means.</summary>
    internal static AttemptResult Classify(Exception e, ProxyRequest request, IProviderPlugin provider, StartFlag started)
    {
        if (request.Aborted.IsCancellationRequested && e is OperationCanceledException or IOException or ClientGoneException)
            return AttemptResult.ClientGone;
        if (e is ClientGoneException) return AttemptResult.ClientGone;
        var failure = e switch
        {
            UpstreamException u => u,
            HttpRequestException or IOException => FailureClassifier.FromTransport(e),
            TimeoutException or OperationCanceledException => new UpstreamException(FailureKind.Transient, 504, "The upstream attempt timed out.", inner: e),
            _ => null,
        };
        if (failure is not null)
            return new AttemptResult(started.IsSet ? AttemptOutcome.FailedAfterStart : AttemptOutcome.FailedBeforeStart, failure, provider.NativeDialect);
        // NotSupportedException, a plugin bug or one of the host's own: this request fails, no credential is blamed.
        return new AttemptResult(AttemptOutcome.Answered, null, null, CoolDown: false);
    }

    private async Task<AttemptResult> ResultOfAsync(AttemptResult result, Exception e, ProxyRequest request, IProviderPlugin provider)
    {
        if (result.Outcome != AttemptOutcome.Answered) return result;
        if (request.Http.Response.HasStarted)
        {
            LogPluginFailed(e, provider.Id);
            return result;
        }
        if (e is NotSupportedException)
        {
            await ErrorWriter.WriteAsync(request.Http, request.Client, 501, redactor.Redact(e.Message));
            return result;
        }
        LogPluginFailed(e, provider.Id);
        await ErrorWriter.WriteAsync(request.Http, request.Client, 502, $"The provider plugin '{provider.Id}' failed: {redactor.Redact(e.Message)}");
        return result;
    }

    private static void ObserveUsage(ProxyRequest request, Usage? usage)
    {
        if (usage is not null && request.Http.Features.Get<RequestTrace>() is { } trace) trace.Usage = usage;
    }

    /// <summary>The canonical request, or null after writing the 400 that explains what is wrong with the body.</summary>
    private static async Task<ChatRequest?> DecodeOrNullAsync(ProxyRequest request)
    {
        string error;
        try
        {
            var canonical = request.DecodeBody();
            if (string.IsNullOrEmpty(canonical.Model)) canonical.Model = request.ClientModel;
            canonical.Stream = request.Stream;
            request.ClientReasoning = canonical.Reasoning;
            return canonical;
        }
        catch (RequestFormatException e)
        {
            error = e.Message;
        }
        catch (Exception e) when (e is InvalidOperationException and not ObjectDisposedException or FormatException or ArgumentException or KeyNotFoundException or InvalidCastException or System.Text.Json.JsonException)
        {
            // A shape the codec did not expect: still the client's input, so a 400 that says so rather than a 5xx.
            error = $"The request could not be read as {request.Client.Dialect}: {e.Message}";
        }
        await ErrorWriter.WriteAsync(request.Http, request.Client, 400, error);
        return null;
    }

    /// <summary>A thinking suffix (<c>model(high)</c>) overrides the body's reasoning settings.</summary>
    private static ReasoningConfig? WithSuffix(ReasoningConfig? reasoning, ReasoningSuffix? suffix)
    {
        if (suffix is null) return reasoning;
        var budget = suffix.Budget ?? ThinkingLevels.BudgetFor(suffix.Level);
        return new ReasoningConfig
        {
            Effort = suffix.Level ?? (budget is { } b ? ThinkingLevels.LevelFor(b) : null),
            BudgetTokens = budget,
            IncludeThoughts = budget != 0 && (reasoning?.IncludeThoughts ?? true),
            Summary = reasoning?.Summary,
        };
    }

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private UpstreamCall CreateCall(ProxyRequest request, ModelRoute route, IProviderPlugin provider, PassthroughHeaders.AttemptCopy? copy)
    {
        Dictionary<string, string>? headers = null; // most requests carry none of them: no dictionary then
        foreach (var name in ForwardedClientHeaders)
            if (request.Http.Request.Headers.TryGetValue(name, out var value)) (headers ??= new(StringComparer.OrdinalIgnoreCase))[name] = value.ToString();
        // A suffix in the configured upstream name (models: [{name: "m(8192)"}]) wins over the client's.
        var upstream = ModelName.Parse(route.UpstreamModel);
        var loaded = request.Config;
        var rules = loaded.Payload;
        var protocol = PayloadRules.ProtocolOf(provider.NativeDialect);
        string[] names = [upstream.Base, request.Routed.Base, request.ClientModel];
        var settings = loaded.Config;
        var concerns = new AttemptConcerns(
            route.Credential.Headers,
            request.Endpoint.Operation != Operation.CountTokens && rules.AppliesTo(protocol, names) ? body => rules.Apply(body, protocol, names) : null,
            settings.Timeouts.FirstByte,
            settings.Timeouts.StreamIdle) { ClientHeaders = request.Http.Request.Headers, PassthroughTo = copy };
        return new UpstreamCall
        {
            Credential = route.Credential,
            UpstreamModel = upstream.Base,
            ReasoningSuffix = upstream.Suffix ?? request.Routed.Suffix,
            Http = httpClients.ForAttempt(route.Credential.ProxyUrl, settings.ProxyUrl, concerns, provider.TransportFor(route.Credential)),
            Log = pluginLogs.For(provider.Id),
            Clock = clock,
            ClientHeaders = headers ?? NoHeaders,
            Settings = loaded.SettingsFor(provider.Id),
            UpdateCredentialAsync = (edit, ct) => updateCredential(route.Credential, edit, ct),
        };
    }

    [LoggerMessage(LogLevel.Error, "Provider plugin {Provider} threw while serving a request")]
    private partial void LogPluginFailed(Exception exception, string provider);

    [LoggerMessage(LogLevel.Warning, "Stream from {Provider} via {Credential} failed after it started ({Status}); sent the client an error event")]
    private partial void LogStreamFailed(string provider, string credential, int status);
}

/// <summary>Saves an edit of a credential file (the credential store's atomic update).</summary>
internal delegate Task CredentialUpdate(PluginProxy.Abstractions.Credentials.CredentialRecord credential, Action<JsonObject> edit, CancellationToken cancellationToken);

/// <summary>Set once real response bytes went out; keep-alive newlines alone do not count.</summary>
internal sealed class StartFlag
{
    public bool IsSet { get; private set; }
    public void Set() => IsSet = true;
}

/// <summary>Writing to the client failed: it went away. Never blamed on the upstream.</summary>
internal sealed class ClientGoneException(Exception inner) : Exception("the client went away", inner);
