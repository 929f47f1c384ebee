using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Sdk.Failures;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Payload;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Proxying;

/// <summary>One inference request as an endpoint describes it.</summary>
/// <param name="Client">The client's dialect.</param>
/// <param name="Operation">Generate or count tokens.</param>
/// <param name="UrlModel">Model named in the URL (Gemini), else null.</param>
/// <param name="UrlStream">Streaming decided by the URL (Gemini), else null to read <c>stream</c> from the body.</param>
/// <param name="Framing">How a stream is framed (Gemini without <c>alt=sse</c> streams a JSON array).</param>
/// <param name="NativeOperation">Operation name for passthrough (Gemini method, Anthropic count_tokens), else null.</param>
/// <param name="PinnedProvider">Provider fixed by the route (for example <c>/api/provider/{provider}/...</c>), else null.</param>
/// <param name="NonStreamKeepAlive">Whether <c>nonstream-keepalive-interval</c> applies (not to chat completions or counts, as in CLIProxyAPI).</param>
public sealed record InferenceRequest(ClientDialect Client, Operation Operation, string? UrlModel = null, bool? UrlStream = null,
    StreamFraming Framing = StreamFraming.Sse, string? NativeOperation = null, string? PinnedProvider = null, bool NonStreamKeepAlive = false);

/// <summary>
/// Runs an inference request: reads and checks the body, resolves the model to candidate credentials, and lets the
/// scheduler hand them out one at a time. Passthrough when the provider speaks the client's dialect; otherwise decode
/// to canonical, execute, and encode back, streaming event by event. A failure before the client has seen a byte
/// cools the credential down and moves on; errors reach the client in its own dialect.
/// </summary>
public sealed partial class ProxyHandler(
    ConfigStore config,
    PluginRuntime plugins,
    ModelRegistry registry,
    Scheduler scheduler,
    HttpClientPool httpClients,
    CredentialRefresher refresher,
    SecretRedactor redactor,
    ILoggerFactory loggerFactory)
{
    private static readonly string[] ForwardedClientHeaders = ["anthropic-beta", "anthropic-version", "openai-beta", "user-agent", "x-goog-api-client"];

    private readonly ILogger _logger = loggerFactory.CreateLogger<ProxyHandler>();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PluginLog> _pluginLogs = new(StringComparer.Ordinal);

    /// <summary>What one request carries from step to step.</summary>
    private sealed class RequestState(HttpContext http, InferenceRequest request, ReadOnlyMemory<byte> body, JsonObject json, string model, bool stream)
    {
        public HttpContext Http { get; } = http;
        public InferenceRequest Request { get; } = request;
        public ReadOnlyMemory<byte> Body { get; } = body;
        public JsonObject Json { get; } = json;
        public string ClientModel { get; } = model;
        public bool Stream { get; } = stream;
        public ModelName Routed { get; set; }
        public ChatRequest? Canonical { get; set; }
        /// <summary>The reasoning settings as the client sent them, before any suffix applied (set when decoding).</summary>
        public ReasoningConfig? ClientReasoning { get; set; }
        /// <summary>True once real response bytes went out; keep-alive newlines alone do not count.</summary>
        public bool BodyStarted { get; set; }
        public UpstreamException? LastFailure { get; set; }
        public Dialect? LastFailureDialect { get; set; }
        public ClientDialect Client => Request.Client;
        public CancellationToken Cancellation => Http.RequestAborted;
    }

    private enum Outcome
    {
        Done,
        TryNext,
    }

    public async Task HandleAsync(HttpContext http, InferenceRequest request)
    {
        var client = request.Client;
        var body = await ReadBodyAsync(http, client);
        if (body is null) return;
        JsonObject json;
        try
        {
            json = JsonNode.Parse(body.Value.Span) as JsonObject ?? throw new JsonException("the body is not a JSON object");
        }
        catch (JsonException e)
        {
            await ErrorWriter.WriteAsync(http, client, 400, $"Malformed JSON in request body: {FirstLine(e.Message)}");
            return;
        }
        var model = request.UrlModel ?? (json["model"] is JsonValue v && v.TryGetValue<string>(out var m) ? m : null);
        if (string.IsNullOrWhiteSpace(model))
        {
            await ErrorWriter.WriteAsync(http, client, 400, "The request has no model. Set \"model\" to one of the ids GET /v1/models lists.");
            return;
        }
        var stream = request.Operation != Operation.CountTokens
                     && (request.UrlStream ?? (json["stream"] is JsonValue s && s.TryGetValue<bool>(out var isStream) && isStream));
        var state = new RequestState(http, request, body.Value, json, model, stream);

        using var lease = plugins.Acquire();
        var (routedModel, pinnedProvider) = ApplyRouters(lease.Set, http, model, request.PinnedProvider);
        state.Routed = ModelName.Parse(routedModel);
        var snapshot = registry.Current;
        var (modelId, routes) = snapshot.Resolve(state.Routed.Base);
        if (pinnedProvider is not null)
            routes = [.. routes.Where(r => string.Equals(r.Credential.Provider, pinnedProvider, StringComparison.OrdinalIgnoreCase))];
        if (routes.IsEmpty)
        {
            await ErrorWriter.WriteAsync(http, client, 404,
                $"The model '{routedModel}' is not served by any configured credential. GET /v1/models lists the models available.", "model_not_found");
            return;
        }

        var settings = config.Config;
        var selection = scheduler.Begin(modelId, routes, snapshot.Revision, pinnedProvider);
        var retryRounds = settings.MaxRetryInterval > 0 ? routes.Max(r => r.Credential.RequestRetry ?? settings.RequestRetry) : 0;
        var bootstrapRounds = stream ? Math.Max(0, settings.Streaming.BootstrapRetries) : 0;
        while (true)
        {
            while (selection.TryNext(out var route))
                if (await TryRouteAsync(state, lease.Set, route, selection) == Outcome.Done) return;

            if (bootstrapRounds > 0 && state.LastFailure is not null)
            {
                // streaming.bootstrap-retries: a stream that failed before its first byte gets another go on the credentials
                // this request tried, although that failure just cooled them down.
                bootstrapRounds--;
                foreach (var route in selection.Attempted)
                    if (await TryRouteAsync(state, lease.Set, route, selection) == Outcome.Done) return;
                continue;
            }
            var wait = selection.EarliestRecovery - scheduler.Clock.GetUtcNow();
            if (retryRounds > 0 && wait is { } w && w <= TimeSpan.FromSeconds(settings.MaxRetryInterval))
            {
                retryRounds--;
                LogWaiting(routedModel, w.TotalSeconds);
                try
                {
                    if (w > TimeSpan.Zero) await Task.Delay(w, scheduler.Clock, state.Cancellation);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                selection.NewRound();
                continue;
            }
            break;
        }
        await GiveUpAsync(state, selection, routedModel);
    }

    private async Task GiveUpAsync(RequestState state, Selection selection, string model)
    {
        if (state.LastFailure is { } failure)
        {
            await ErrorWriter.WriteUpstreamAsync(state.Http, state.Client, failure, state.LastFailureDialect, redactor);
            return;
        }
        if (selection.EarliestRecovery is { } until)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling((until - scheduler.Clock.GetUtcNow()).TotalSeconds));
            state.Http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var error = state.Client.Codec.EncodeError(429,
                $"All credentials for model '{model}' are cooling down; the first frees up in {FormatWait(seconds)} (at {until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}).",
                "model_cooldown");
            if (error["error"] is JsonObject details)
            {
                details["model"] = model;
                details["reset_seconds"] = seconds;
                details["reset_time"] = until.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ");
            }
            await ErrorWriter.WriteJsonAsync(state.Http, 429, error);
            return;
        }
        await ErrorWriter.WriteAsync(state.Http, state.Client, 503, $"No loaded provider plugin serves the credentials for '{model}'.");
    }

    private async Task<Outcome> TryRouteAsync(RequestState state, PluginSet set, ModelRoute route, Selection selection)
    {
        var http = state.Http;
        var provider = set.ProviderFor(route.Credential.Type);
        if (provider is null) return Outcome.TryNext;
        var trace = http.Features.Get<RequestTrace>();
        if (trace is not null)
        {
            trace.Provider = provider.Id;
            trace.Credential = route.Credential.Label;
        }
        var call = CreateCall(state, route, provider);
        try
        {
            if (state.Client.AllowsPassthrough && provider.NativeDialect == state.Client.Dialect && call.ReasoningSuffix is null)
            {
                var native = new NativeRequest
                {
                    Body = PassthroughBody(state, call),
                    Stream = state.Stream,
                    Operation = state.Request.NativeOperation,
                    Query = state.Request.Framing == StreamFraming.Sse && state.Stream && state.Client.Dialect == Dialect.Gemini ? "alt=sse" : null,
                };
                var response = await provider.Executor.SendNativeAsync(call, native, state.Cancellation);
                if (await RelayAsync(state, response, provider.Id, call) is { } broken) selection.Failed(route, broken);
                else selection.Succeeded(route);
                return Outcome.Done;
            }
            var canonical = state.Canonical ??= await DecodeOrNullAsync(state);
            if (canonical is null) return Outcome.Done; // the 400 is written
            canonical.Reasoning = WithSuffix(state.ClientReasoning, call.ReasoningSuffix); // per attempt: routes may carry their own suffix
            switch (state.Request.Operation, state.Stream)
            {
                case (Operation.CountTokens, _):
                    var count = await provider.Executor.CountTokensAsync(call, canonical, state.Cancellation);
                    selection.Succeeded(route);
                    await ErrorWriter.WriteJsonAsync(http, 200, state.Client.Codec.EncodeTokenCount(count));
                    return Outcome.Done;
                case (_, false):
                    var answer = await WithKeepAliveAsync(state, provider.Executor.CompleteAsync(call, canonical, state.Cancellation));
                    selection.Succeeded(route);
                    if (string.IsNullOrEmpty(answer.Model)) answer.Model = state.ClientModel;
                    state.BodyStarted = true;
                    await ErrorWriter.WriteJsonAsync(http, 200, state.Client.Encode(answer, canonical));
                    return Outcome.Done;
                default:
                    await StreamAsync(state, provider, call, canonical, route, selection);
                    return Outcome.Done;
            }
        }
        catch (Exception e) when (!state.BodyStarted && e is UpstreamException or IOException or HttpRequestException)
        {
            // A connection that broke before the client saw a byte is as good as a refused one: try elsewhere.
            var failure = e as UpstreamException ?? FailureClassifier.FromTransport(e);
            return await FailedAsync(state, route, provider, call, selection, failure);
        }
        catch (NotSupportedException e) when (!state.BodyStarted)
        {
            await ErrorWriter.WriteAsync(http, state.Client, 501, redactor.Redact(e.Message));
            return Outcome.Done;
        }
        catch (OperationCanceledException) when (state.Cancellation.IsCancellationRequested)
        {
            return Outcome.Done; // the client went away; upstream work was cancelled with it
        }
        catch (Exception e) when (state.BodyStarted && e is IOException or HttpRequestException)
        {
            // The upstream broke off a relayed non-SSE passthrough body; the client has what arrived.
            selection.Failed(route, FailureClassifier.FromTransport(e));
            LogStreamFailed(provider.Id, route.Credential.Label, 502);
            return Outcome.Done;
        }
        catch (Exception e) when (e is not UpstreamException && !state.BodyStarted)
        {
            // A plugin bug fails this request only.
            LogPluginFailed(e, provider.Id);
            await ErrorWriter.WriteAsync(http, state.Client, 502, $"The provider plugin '{provider.Id}' failed: {redactor.Redact(e.Message)}");
            return Outcome.Done;
        }
    }

    /// <summary>Records a failed attempt before any byte reached the client and decides whether to try the next candidate.</summary>
    private async Task<Outcome> FailedAsync(RequestState state, ModelRoute route, IProviderPlugin provider, UpstreamCall call, Selection selection, UpstreamException failure)
    {
        // A 401 for tokens that were already replaced (a refresh finished meanwhile) says nothing about the credential now.
        var stale = failure.Kind == FailureKind.AuthRevoked && !refresher.IsCurrent(route.Credential);
        var cooldown = stale ? null : selection.Failed(route, failure);
        LogAttemptFailed(provider.Id, route.Credential.Label, failure.StatusCode, failure.Kind, cooldown?.Until);
        if (failure.Kind == FailureKind.AuthRevoked && !stale && provider.Authenticator is not null)
            _ = refresher.RefreshAsync(route.Credential, call.Http);
        state.LastFailure = failure;
        state.LastFailureDialect = provider.NativeDialect;
        if (failure.Kind != FailureKind.ClientError) return Outcome.TryNext;
        await ErrorWriter.WriteUpstreamAsync(state.Http, state.Client, failure, provider.NativeDialect, redactor); // another account would fail alike
        return Outcome.Done;
    }

    /// <summary>The canonical request, or null after writing the 400 that explains what is wrong with the body.</summary>
    private static async Task<ChatRequest?> DecodeOrNullAsync(RequestState state)
    {
        string error;
        try
        {
            var canonical = state.Client.Decode(state.Json);
            if (string.IsNullOrEmpty(canonical.Model)) canonical.Model = state.ClientModel;
            canonical.Stream = state.Stream;
            state.ClientReasoning = canonical.Reasoning;
            return canonical;
        }
        catch (RequestFormatException e)
        {
            error = e.Message;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException or InvalidCastException)
        {
            // A shape the codec did not expect: still the client's input, so a 400 that says so rather than a 5xx.
            error = $"The request could not be read as {state.Client.Dialect}: {e.Message}";
        }
        await ErrorWriter.WriteAsync(state.Http, state.Client, 400, error);
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

    private UpstreamCall CreateCall(RequestState state, ModelRoute route, IProviderPlugin provider)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in ForwardedClientHeaders)
            if (state.Http.Request.Headers.TryGetValue(name, out var value)) headers[name] = value.ToString();
        // A suffix in the configured upstream name (models: [{name: "m(8192)"}]) wins over the client's.
        var upstream = ModelName.Parse(route.UpstreamModel);
        var loaded = config.Current;
        var rules = loaded.Payload;
        var protocol = PayloadRules.ProtocolOf(provider.NativeDialect);
        string[] names = [upstream.Base, state.Routed.Base, state.ClientModel];
        var settings = loaded.Config;
        var concerns = new AttemptConcerns(
            route.Credential.Headers,
            state.Request.Operation != Operation.CountTokens && rules.AppliesTo(protocol, names) ? body => rules.Apply(body, protocol, names) : null,
            settings.Timeouts.FirstByte,
            settings.Timeouts.StreamIdle);
        return new UpstreamCall
        {
            Credential = route.Credential,
            UpstreamModel = upstream.Base,
            ReasoningSuffix = upstream.Suffix ?? state.Routed.Suffix,
            Http = httpClients.ForAttempt(route.Credential.ProxyUrl, settings.ProxyUrl, concerns),
            Log = _pluginLogs.GetOrAdd(provider.Id, id => new PluginLog(loggerFactory.CreateLogger("Plugin." + id))),
            Clock = scheduler.Clock,
            ClientHeaders = headers,
            Settings = loaded.SettingsFor(provider.Id),
        };
    }

    /// <summary>The client's bytes with the model swapped (payload rules are applied on the way out, by the attempt's client).</summary>
    private static ReadOnlyMemory<byte> PassthroughBody(RequestState state, UpstreamCall call) => ModelRewriter.Rewrite(state.Body, call.UpstreamModel);

    /// <summary>Runs the routing plugins in order; each may rewrite the model or pin a provider.</summary>
    private (string Model, string? Provider) ApplyRouters(PluginSet set, HttpContext http, string model, string? provider)
    {
        if (set.Routers.IsEmpty) return (model, provider);
        var routeValues = http.Request.RouteValues.Where(kv => kv.Value is string)
            .ToDictionary(kv => kv.Key, kv => (string)kv.Value!, StringComparer.OrdinalIgnoreCase);
        foreach (var router in set.Routers)
        {
            var decision = router.Route(new PluginProxy.Abstractions.Plugins.RouteContext
            {
                Model = model,
                Path = http.Request.Path.Value ?? "",
                RouteValues = routeValues,
                IsModelAvailable = _ => true,
                Settings = config.Current.SettingsFor(router.Id),
            });
            model = decision.Model ?? model;
            provider = decision.Provider ?? provider;
        }
        return (model, provider);
    }

    /// <summary>
    /// Relays a passthrough response byte for byte, flushing as bytes arrive. An upstream that fails before the first byte
    /// is a transport failure (the next credential may serve); an SSE stream that fails after it started ends with the
    /// client dialect's mid-stream error event, as a translated stream would; that failure is returned.
    /// </summary>
    private async Task<UpstreamException?> RelayAsync(RequestState state, NativeResponse upstream, string providerId, UpstreamCall call)
    {
        var http = state.Http;
        var cancellation = state.Cancellation;
        await using (upstream)
        {
            var sse = upstream.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            var buffer = new byte[16 * 1024];
            var endsWithBlankLine = true;
            while (true)
            {
                int read;
                try
                {
                    read = await upstream.Body.ReadAsync(buffer, cancellation);
                }
                catch (Exception e) when (!cancellation.IsCancellationRequested && e is IOException or HttpRequestException)
                {
                    if (!state.BodyStarted) throw FailureClassifier.FromTransport(e);
                    if (!sse) throw;
                    var (status, message) = MidStreamFailure(e, providerId);
                    LogStreamFailed(providerId, call.Credential.Label, status);
                    if (!endsWithBlankLine) await http.Response.Body.WriteAsync("\n\n"u8.ToArray(), CancellationToken.None);
                    var encoder = state.Client.CreateStreamEncoder(new ChatRequest { Model = state.ClientModel, Stream = true }, state.Request.Framing);
                    encoder.EncodeError(status, redactor.Redact(message), http.Response.BodyWriter);
                    await http.Response.BodyWriter.FlushAsync(CancellationToken.None);
                    return FailureClassifier.FromTransport(e);
                }
                if (read == 0 && state.BodyStarted) break;
                if (!state.BodyStarted)
                {
                    if (!http.Response.HasStarted)
                    {
                        http.Response.StatusCode = upstream.StatusCode;
                        if (upstream.ContentType is not null) http.Response.ContentType = upstream.ContentType;
                        foreach (var (name, value) in upstream.Headers) http.Response.Headers[name] = value;
                        if (sse) http.Response.Headers.CacheControl = "no-cache";
                    }
                    state.BodyStarted = true;
                    if (read == 0) break;
                }
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellation);
                await http.Response.Body.FlushAsync(cancellation);
                endsWithBlankLine = read >= 2 && buffer[read - 1] == (byte)'\n' && buffer[read - 2] == (byte)'\n'
                    || read >= 4 && buffer.AsSpan(read - 4, 4).SequenceEqual("\r\n\r\n"u8);
            }
        }
        return null;
    }

    /// <summary>Status and message of the error event for a stream that failed after it started.</summary>
    private static (int Status, string Message) MidStreamFailure(Exception e, string providerId) => e switch
    {
        UpstreamException u => (u.StatusCode, u.Message),
        IOException or HttpRequestException => (502, "The upstream connection failed mid-stream; the answer is incomplete."),
        _ => (502, $"The provider plugin '{providerId}' failed mid-stream."),
    };

    /// <summary>
    /// <c>nonstream-keepalive-interval</c>: while a non-streaming answer is pending, a newline every N seconds keeps idle
    /// proxies from closing the connection (JSON allows leading whitespace). It commits status 200, as in CLIProxyAPI.
    /// </summary>
    private async Task<T> WithKeepAliveAsync<T>(RequestState state, Task<T> work)
    {
        var seconds = config.Config.NonstreamKeepaliveInterval;
        if (seconds <= 0 || !state.Request.NonStreamKeepAlive) return await work;
        var response = state.Http.Response;
        while (await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(seconds), scheduler.Clock, state.Cancellation)) != work)
        {
            if (!response.HasStarted)
            {
                response.StatusCode = 200;
                response.ContentType = "application/json";
            }
            await response.Body.WriteAsync("\n"u8.ToArray(), state.Cancellation);
            await response.Body.FlushAsync(state.Cancellation);
        }
        return await work;
    }

    /// <summary>
    /// Streams a translated answer. The first event is awaited before any header is sent, so a failure to start throws
    /// and the next credential is tried; after that, failures become the dialect's mid-stream error event.
    /// <c>streaming.keepalive-seconds</c> sends SSE comments while the upstream is silent.
    /// </summary>
    private async Task StreamAsync(RequestState state, IProviderPlugin provider, UpstreamCall call, ChatRequest canonical, ModelRoute route, Selection selection)
    {
        var cancellation = state.Cancellation;
        await using var events = provider.Executor.StreamAsync(call, canonical, cancellation).GetAsyncEnumerator(cancellation);
        var more = await events.MoveNextAsync();
        selection.Succeeded(route);
        var encoder = state.Client.CreateStreamEncoder(canonical, state.Request.Framing);
        var response = state.Http.Response;
        response.StatusCode = 200;
        response.ContentType = encoder.ContentType;
        response.Headers.CacheControl = "no-cache";
        state.BodyStarted = true;
        var output = response.BodyWriter;
        var keepAlive = state.Request.Framing == StreamFraming.Sse ? config.Config.Streaming.KeepaliveSeconds : 0;
        Task<bool>? pending = null;
        try
        {
            while (more)
            {
                encoder.Encode(events.Current, output);
                await output.FlushAsync(cancellation);
                if (keepAlive <= 0)
                {
                    more = await events.MoveNextAsync();
                    continue;
                }
                pending = events.MoveNextAsync().AsTask();
                while (true)
                {
                    try
                    {
                        more = await pending.WaitAsync(TimeSpan.FromSeconds(keepAlive), scheduler.Clock, cancellation);
                        break;
                    }
                    catch (TimeoutException)
                    {
                        SseWriter.WriteComment(output, "keep-alive");
                        await output.FlushAsync(cancellation);
                    }
                }
                pending = null;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            var (status, message) = MidStreamFailure(e, provider.Id);
            var failure = e as UpstreamException ?? new UpstreamException(FailureKind.Transient, status, message);
            selection.Failed(route, failure);
            LogStreamFailed(provider.Id, call.Credential.Label, failure.StatusCode);
            encoder.EncodeError(failure.StatusCode, redactor.Redact(failure.Message), output);
            await output.FlushAsync(CancellationToken.None);
        }
        finally
        {
            // The enumerator may not be disposed while a MoveNextAsync is still running (the client left mid-wait).
            if (pending is not null) await pending.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext http, ClientDialect client)
    {
        var limitMb = config.Config.MaxBodySizeMb;
        var limit = (long)limitMb * 1024 * 1024;
        if (http.Request.ContentLength > limit)
        {
            await ErrorWriter.WriteAsync(http, client, 413, $"The request body is larger than the {limitMb} MiB limit (max-body-size-mb).");
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                await ErrorWriter.WriteAsync(http, client, 413, $"The request body is larger than the {limitMb} MiB limit (max-body-size-mb).");
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
        {
            await ErrorWriter.WriteAsync(http, client, 400, "The request body is empty; a JSON object is required.");
            return null;
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static string FormatWait(int seconds) => seconds < 120 ? $"{seconds}s" : seconds < 7200 ? $"{seconds / 60}m{seconds % 60}s" : $"{seconds / 3600}h{seconds % 3600 / 60}m";

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }

    [LoggerMessage(LogLevel.Warning, "Upstream {Provider} via {Credential} failed with {Status} ({Kind}); cooling until {Until}; trying the next credential if any")]
    private partial void LogAttemptFailed(string provider, string credential, int status, FailureKind kind, DateTimeOffset? until);

    [LoggerMessage(LogLevel.Information, "Every credential for {Model} is cooling; retrying in {Seconds:0.#} s (max-retry-interval)")]
    private partial void LogWaiting(string model, double seconds);

    [LoggerMessage(LogLevel.Error, "Provider plugin {Provider} threw while serving a request")]
    private partial void LogPluginFailed(Exception exception, string provider);

    [LoggerMessage(LogLevel.Warning, "Stream from {Provider} via {Credential} failed after it started ({Status}); sent the client an error event")]
    private partial void LogStreamFailed(string provider, string credential, int status);
}
