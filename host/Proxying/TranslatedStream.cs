using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Sse;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Streams a translated answer. The first event is awaited before any header is sent, so a failure to start is a
/// failure of the attempt and the next credential is tried; after that, upstream failures become the dialect's
/// mid-stream error event. <c>streaming.keepalive-seconds</c> sends SSE comments while the upstream is silent.
/// Upstream reads and client writes are told apart: a client that went away blames no credential.
/// </summary>
internal static class TranslatedStream
{
    public static async Task<AttemptResult> WriteAsync(ProxyRequest request, IProviderPlugin provider, UpstreamCall call, ChatRequest canonical,
        StartFlag started, TimeProvider clock, SecretRedactor redactor, Action<string, string, int> logStreamFailed)
    {
        var cancellation = request.Aborted;
        await using var events = provider.Executor.StreamAsync(call, canonical, cancellation).GetAsyncEnumerator(cancellation);
        var more = await events.MoveNextAsync(); // throws before start: the failover loop's business
        var encoder = request.Client.CreateStreamEncoder(canonical, request.Endpoint.Framing);
        var response = request.Http.Response;
        response.StatusCode = 200;
        response.ContentType = encoder.ContentType;
        response.Headers.CacheControl = "no-cache";
        started.Set();
        var output = response.BodyWriter;
        var keepAlive = request.Endpoint.Framing == Formats.StreamFraming.Sse ? request.Config.Config.Streaming.KeepaliveSeconds : 0;
        var trace = request.Http.Features.Get<RequestTrace>();
        Task<bool>? pending = null;
        var flushedOnce = false;
        try
        {
            while (more)
            {
                var current = events.Current;
                if (current is UsageReported usage && trace is not null) trace.Usage = usage.Usage;
                if (request.LearnsResponseId && request.ResponseId is null)
                {
                    // The id the client gets, fixed here so it can be learned: the upstream's (as the encoder spells it), or
                    // a new one in a response.created of our own when the upstream's stream has no start event.
                    if (current is ResponseStarted first) current = new ResponseStarted(request.ResponseId = ResponseIds.Normalize(first.Id), first.Model, first.Created);
                    else encoder.Encode(new ResponseStarted(request.ResponseId = ResponseIds.Normalize(null), request.ResponseModel ?? "", 0), output);
                }
                if (current is ResponseStarted && request.ResponseModel is { } model) current = Renamed((ResponseStarted)current, model);
                encoder.Encode(current, output);
                // Events the upstream already delivered (one read often holds many) are encoded into one write; the
                // output is flushed whenever the next event is not there yet, and after the first event, so the
                // client sees the start at once and every event as soon as the upstream pauses.
                var next = events.MoveNextAsync();
                // A read still running is owned by the finally below from here on: the enumerator must not be disposed
                // under it if the client goes away during the flush.
                if (!next.IsCompleted) pending = next.AsTask();
                if (pending is not null || !flushedOnce)
                {
                    if ((await output.FlushAsync(cancellation)).IsCanceled) return AttemptResult.ClientGone;
                    // Kestrel sends flushed bytes from a queued work item: yielding once lets the first event leave
                    // before the rest of an already delivered answer is translated (on a busy core it would wait).
                    if (!flushedOnce) await Task.Yield();
                    flushedOnce = true;
                }
                if (pending is null)
                {
                    more = next.GetAwaiter().GetResult();
                    continue;
                }
                while (true)
                {
                    if (keepAlive <= 0)
                    {
                        more = await pending;
                        break;
                    }
                    try
                    {
                        more = await pending.WaitAsync(TimeSpan.FromSeconds(keepAlive), clock, cancellation);
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
            if ((await output.FlushAsync(cancellation)).IsCanceled) return AttemptResult.ClientGone; // the events of the last read
            return AttemptResult.Served;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            // An upstream failure cools the credential; a plugin's (or the encoder's) bug fails only this request.
            var (failure, message) = e switch
            {
                UpstreamException u => (u, u.Message),
                HttpRequestException or IOException => (FailureClassifier.FromTransport(e), "The upstream connection failed mid-stream; the answer is incomplete."),
                _ => ((UpstreamException?)null, $"The provider plugin '{provider.Id}' failed mid-stream."),
            };
            var blame = failure is not null;
            failure ??= new UpstreamException(FailureKind.Transient, 502, message);
            logStreamFailed(provider.Id, call.Credential.Label, failure.StatusCode);
            try
            {
                encoder.EncodeError(failure.StatusCode, redactor.Redact(message), output);
                await output.FlushAsync(CancellationToken.None);
            }
            catch (Exception write) when (write is IOException or OperationCanceledException)
            {
                return AttemptResult.ClientGone;
            }
            return new AttemptResult(AttemptOutcome.FailedAfterStart, failure, provider.NativeDialect, CoolDown: blame);
        }
        catch (OperationCanceledException)
        {
            return AttemptResult.ClientGone;
        }
        finally
        {
            // The enumerator may not be disposed while a MoveNextAsync is still running (the client left mid-wait).
            if (pending is not null) await pending.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static ResponseStarted Renamed(ResponseStarted started, string model) => new(started.Id, model, started.Created);
}
