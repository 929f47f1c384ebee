using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
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
public sealed record InferenceRequest(ClientDialect Client, Operation Operation, string? UrlModel = null, bool? UrlStream = null,
    StreamFraming Framing = StreamFraming.Sse, string? NativeOperation = null, string? PinnedProvider = null);

/// <summary>
/// Runs an inference request: reads and checks the body, resolves the model to candidate credentials, and tries them
/// in scheduler order. Passthrough when the provider speaks the client's dialect; otherwise decode to canonical,
/// execute, and encode back, streaming event by event. Errors reach the client in its own dialect.
/// </summary>
public sealed partial class ProxyHandler(
    ConfigStore config,
    PluginRuntime plugins,
    ModelRegistry registry,
    Scheduler scheduler,
    HttpClientPool httpClients,
    SecretRedactor redactor,
    ILoggerFactory loggerFactory)
{
    private static readonly string[] ForwardedClientHeaders = ["anthropic-beta", "anthropic-version", "openai-beta", "user-agent", "x-goog-api-client"];

    private readonly ILogger _logger = loggerFactory.CreateLogger<ProxyHandler>();

    public async Task HandleAsync(HttpContext http, InferenceRequest request)
    {
        var client = request.Client;
        var cancellation = http.RequestAborted;
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
        var stream = request.UrlStream ?? (json["stream"] is JsonValue s && s.TryGetValue<bool>(out var isStream) && isStream);
        if (request.Operation == Operation.CountTokens) stream = false;

        using var lease = plugins.Acquire();
        var (routedModel, pinnedProvider) = ApplyRouters(lease.Set, http, model, request.PinnedProvider);
        var routes = registry.Current.RoutesFor(routedModel);
        if (pinnedProvider is not null)
            routes = [.. routes.Where(r => string.Equals(r.Credential.Provider, pinnedProvider, StringComparison.OrdinalIgnoreCase))];
        if (routes.IsEmpty)
        {
            await ErrorWriter.WriteAsync(http, client, 404,
                $"The model '{routedModel}' is not served by any configured credential. GET /v1/models lists the models available.", "model_not_found");
            return;
        }

        var trace = http.Features.Get<RequestTrace>();
        ChatRequest? canonical = null;
        UpstreamException? lastFailure = null;
        Dialect? lastFailureDialect = null;
        foreach (var route in scheduler.Order(routedModel, routes))
        {
            var provider = lease.Set.ProviderFor(route.Credential.Type);
            if (provider is null) continue;
            if (trace is not null)
            {
                trace.Provider = provider.Id;
                trace.Credential = route.Credential.Label;
            }
            var call = CreateCall(http, route, provider);
            try
            {
                if (client.AllowsPassthrough && provider.NativeDialect == client.Dialect)
                {
                    var native = new NativeRequest
                    {
                        Body = ModelRewriter.Rewrite(body.Value, route.UpstreamModel),
                        Stream = stream,
                        Operation = request.NativeOperation,
                        Query = request.Framing == StreamFraming.Sse && stream && client.Dialect == Dialect.Gemini ? "alt=sse" : null,
                    };
                    await RelayAsync(http, await provider.Executor.SendNativeAsync(call, native, cancellation), request, model, provider.Id, call, cancellation);
                    return;
                }
                if (canonical is null)
                {
                    try
                    {
                        canonical = client.Decode(json);
                    }
                    catch (RequestFormatException e)
                    {
                        await ErrorWriter.WriteAsync(http, client, 400, e.Message);
                        return;
                    }
                    if (string.IsNullOrEmpty(canonical.Model)) canonical.Model = model;
                    canonical.Stream = stream;
                }
                if (request.Operation == Operation.CountTokens)
                {
                    var count = await provider.Executor.CountTokensAsync(call, canonical, cancellation);
                    await ErrorWriter.WriteJsonAsync(http, 200, client.Codec.EncodeTokenCount(count));
                    return;
                }
                if (!stream)
                {
                    var response = await provider.Executor.CompleteAsync(call, canonical, cancellation);
                    if (string.IsNullOrEmpty(response.Model)) response.Model = model;
                    await ErrorWriter.WriteJsonAsync(http, 200, client.Encode(response, canonical));
                    return;
                }
                await StreamAsync(http, provider, call, canonical, request, cancellation);
                return;
            }
            catch (UpstreamException e) when (!http.Response.HasStarted)
            {
                lastFailure = e;
                lastFailureDialect = provider.NativeDialect;
                LogAttemptFailed(provider.Id, route.Credential.Label, e.StatusCode, e.Kind);
                if (e.Kind == FailureKind.ClientError) break; // another credential would fail the same way
            }
            catch (NotSupportedException e) when (!http.Response.HasStarted)
            {
                await ErrorWriter.WriteAsync(http, client, 501, redactor.Redact(e.Message));
                return;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return; // the client went away; upstream work was cancelled with it
            }
            catch (Exception e) when (e is not UpstreamException && !http.Response.HasStarted)
            {
                // A plugin bug fails this request only.
                LogPluginFailed(e, provider.Id);
                await ErrorWriter.WriteAsync(http, client, 502, $"The provider plugin '{provider.Id}' failed: {redactor.Redact(e.Message)}");
                return;
            }
        }
        if (lastFailure is null)
            await ErrorWriter.WriteAsync(http, client, 503, $"No loaded provider plugin serves the credentials for '{routedModel}'.");
        else
            await ErrorWriter.WriteUpstreamAsync(http, client, lastFailure, lastFailureDialect, redactor);
    }

    /// <summary>Runs the routing plugins in order; each may rewrite the model or pin a provider.</summary>
    private static (string Model, string? Provider) ApplyRouters(PluginSet set, HttpContext http, string model, string? provider)
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
            });
            model = decision.Model ?? model;
            provider = decision.Provider ?? provider;
        }
        return (model, provider);
    }

    private UpstreamCall CreateCall(HttpContext http, ModelRoute route, IProviderPlugin provider)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in ForwardedClientHeaders)
            if (http.Request.Headers.TryGetValue(name, out var value)) headers[name] = value.ToString();
        return new UpstreamCall
        {
            Credential = route.Credential,
            UpstreamModel = route.UpstreamModel,
            Http = httpClients.For(route.Credential.ProxyUrl, config.Config.ProxyUrl),
            Log = new PluginLog(loggerFactory.CreateLogger("Plugin." + provider.Id)),
            ClientHeaders = headers,
        };
    }

    /// <summary>
    /// Relays a passthrough response byte for byte, flushing as bytes arrive. An upstream that fails before the first byte
    /// is a transport failure (the next credential may serve); an SSE stream that fails after it started ends with the
    /// client dialect's mid-stream error event, as a translated stream would.
    /// </summary>
    private async Task RelayAsync(HttpContext http, NativeResponse upstream, InferenceRequest request, string model, string providerId,
        UpstreamCall call, CancellationToken cancellation)
    {
        await using (upstream)
        {
            http.Response.StatusCode = upstream.StatusCode;
            if (upstream.ContentType is not null) http.Response.ContentType = upstream.ContentType;
            foreach (var (name, value) in upstream.Headers) http.Response.Headers[name] = value;
            var sse = upstream.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            if (sse) http.Response.Headers.CacheControl = "no-cache";
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
                    if (!http.Response.HasStarted) throw FailureClassifier.FromTransport(e);
                    if (!sse) throw;
                    var (status, message) = MidStreamFailure(e, providerId);
                    LogStreamFailed(providerId, call.Credential.Label, status);
                    if (!endsWithBlankLine) await http.Response.Body.WriteAsync("\n\n"u8.ToArray(), CancellationToken.None);
                    var encoder = request.Client.CreateStreamEncoder(new ChatRequest { Model = model, Stream = true }, request.Framing);
                    encoder.EncodeError(status, redactor.Redact(message), http.Response.BodyWriter);
                    await http.Response.BodyWriter.FlushAsync(CancellationToken.None);
                    return;
                }
                if (read == 0) break;
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellation);
                await http.Response.Body.FlushAsync(cancellation);
                endsWithBlankLine = read >= 2 && buffer[read - 1] == (byte)'\n' && buffer[read - 2] == (byte)'\n'
                    || read >= 4 && buffer.AsSpan(read - 4, 4).SequenceEqual("\r\n\r\n"u8);
            }
        }
    }

    /// <summary>Status and message of the error event for a stream that failed after it started.</summary>
    private static (int Status, string Message) MidStreamFailure(Exception e, string providerId) => e switch
    {
        UpstreamException u => (u.StatusCode, u.Message),
        IOException or HttpRequestException => (502, "The upstream connection failed mid-stream; the answer is incomplete."),
        _ => (502, $"The provider plugin '{providerId}' failed mid-stream."),
    };

    /// <summary>
    /// Streams a translated answer. The first event is awaited before any header is sent, so a failure to start throws
    /// and the caller can try the next credential; after that, failures become the dialect's mid-stream error event.
    /// </summary>
    private async Task StreamAsync(HttpContext http, IProviderPlugin provider, UpstreamCall call, ChatRequest canonical,
        InferenceRequest request, CancellationToken cancellation)
    {
        await using var events = provider.Executor.StreamAsync(call, canonical, cancellation).GetAsyncEnumerator(cancellation);
        var hasFirst = await events.MoveNextAsync();
        var encoder = request.Client.CreateStreamEncoder(canonical, request.Framing);
        http.Response.StatusCode = 200;
        http.Response.ContentType = encoder.ContentType;
        http.Response.Headers.CacheControl = "no-cache";
        var output = http.Response.BodyWriter;
        try
        {
            var more = hasFirst;
            while (more)
            {
                encoder.Encode(events.Current, output);
                await output.FlushAsync(cancellation);
                more = await events.MoveNextAsync();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            var (status, message) = MidStreamFailure(e, provider.Id);
            LogStreamFailed(provider.Id, call.Credential.Label, status);
            encoder.EncodeError(status, redactor.Redact(message), output);
            await output.FlushAsync(CancellationToken.None);
        }
    }

    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext http, ClientDialect client)
    {
        var limit = (long)config.Config.MaxBodySizeMb * 1024 * 1024;
        if (http.Request.ContentLength > limit)
        {
            await ErrorWriter.WriteAsync(http, client, 413, $"The request body is larger than the {config.Config.MaxBodySizeMb} MiB limit (max-body-size-mb).");
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                await ErrorWriter.WriteAsync(http, client, 413, $"The request body is larger than the {config.Config.MaxBodySizeMb} MiB limit (max-body-size-mb).");
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

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }

    [LoggerMessage(LogLevel.Warning, "Upstream {Provider} via {Credential} failed with {Status} ({Kind}); trying the next credential if any")]
    private partial void LogAttemptFailed(string provider, string credential, int status, FailureKind kind);

    [LoggerMessage(LogLevel.Error, "Provider plugin {Provider} threw while serving a request")]
    private partial void LogPluginFailed(Exception exception, string provider);

    [LoggerMessage(LogLevel.Warning, "Stream from {Provider} via {Credential} failed after it started ({Status}); sent the client an error event")]
    private partial void LogStreamFailed(string provider, string credential, int status);
}
