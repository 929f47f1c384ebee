using System.Buffers;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Security;
using PluginProxy.Sdk.Failures;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Passthrough: the client's bytes with only the model swapped go to the provider in its own dialect, and its answer
/// is relayed byte for byte, flushed as bytes arrive. Payload rules and credential headers are applied on the way out
/// by the attempt's client. A failure before the first byte is a failure of the attempt (the next credential may
/// serve); an SSE stream that breaks after it started ends with the client dialect's error event.
/// </summary>
internal static class PassthroughRelay
{
    private const int BufferSize = 16 * 1024;

    public static async Task<AttemptResult> RelayAsync(ProxyRequest request, IProviderPlugin provider, UpstreamCall call, StartFlag started,
        SecretRedactor redactor, Action<string, string, int> logStreamFailed)
    {
        var http = request.Http;
        // The rewritten body lives in a pooled array until the response completes (the executor may still be sending it
        // when an early answer arrives); an unchanged body is the reader's own pooled buffer.
        var body = ModelRewriter.Rewrite(request.Body, call.UpstreamModel, out var rented, ArrayPool<byte>.Shared);
        if (rented is not null) http.Response.RegisterForDispose(new PooledArray(rented));
        var native = new NativeRequest
        {
            Body = body,
            Stream = request.Stream,
            Operation = request.Endpoint.NativeOperation,
            Query = request.Endpoint.Framing == Formats.StreamFraming.Sse && request.Stream && request.Client.Dialect == Dialect.Gemini ? "alt=sse" : null,
        };
        var upstream = await provider.Executor.SendNativeAsync(call, native, request.Aborted);
        var cancellation = request.Aborted;
        await using (upstream)
        {
            var sse = upstream.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            var usage = new PassthroughUsage(request.Client.Codec, sse);
            var responseId = request.LearnsResponseId ? new Scheduling.ResponseIdScanner(sse) : null;
            var answer = PassthroughModelName.Wrap(upstream.Body, request.ResponseModel, upstream.StatusCode, sse);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            var output = http.Response.BodyWriter;
            try
            {
                var endsWithBlankLine = true;
                while (true)
                {
                    int read;
                    try
                    {
                        read = await answer.ReadAsync(buffer, cancellation);
                    }
                    catch (Exception e) when (!cancellation.IsCancellationRequested)
                    {
                        // Only the upstream's failures are blamed on the credential; a bug in a plugin's wrapping stream is not.
                        var blame = e is UpstreamException or HttpRequestException or IOException;
                        if (!started.IsSet)
                        {
                            if (!blame) throw;
                            throw e as UpstreamException ?? FailureClassifier.FromTransport(e);
                        }
                        var failure = e as UpstreamException ?? (blame ? FailureClassifier.FromTransport(e)
                            : new UpstreamException(FailureKind.Transient, 502, $"The provider plugin '{provider.Id}' failed mid-stream."));
                        if (sse)
                        {
                            logStreamFailed(provider.Id, call.Credential.Label, failure.StatusCode);
                            await WriteErrorEventAsync(request, failure, endsWithBlankLine, redactor);
                        }
                        return new AttemptResult(AttemptOutcome.FailedAfterStart, failure, provider.NativeDialect, CoolDown: blame);
                    }
                    if (!started.IsSet)
                    {
                        if (!http.Response.HasStarted) StartResponse(http.Response, upstream, sse);
                        started.Set();
                    }
                    if (read == 0) break;
                    usage.Observe(buffer.AsSpan(0, read));
                    responseId?.Observe(buffer.AsSpan(0, read));
                    try
                    {
                        // Written and flushed in one call: each chunk reaches the client as it arrived.
                        if ((await output.WriteAsync(buffer.AsMemory(0, read), cancellation)).IsCanceled) return AttemptResult.ClientGone;
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                        return AttemptResult.ClientGone;
                    }
                    endsWithBlankLine = read >= 2 && buffer[read - 1] == (byte)'\n' && buffer[read - 2] == (byte)'\n'
                        || read >= 4 && buffer.AsSpan(read - 4, 4).SequenceEqual("\r\n\r\n"u8);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                usage.Complete();
                if (usage.Usage is { } observed && http.Features.Get<RequestTrace>() is { } trace) trace.Usage = observed;
                request.ResponseId = responseId?.Id;
            }
        }
        return AttemptResult.Served;
    }

    private static void StartResponse(Microsoft.AspNetCore.Http.HttpResponse response, NativeResponse upstream, bool sse)
    {
        response.StatusCode = upstream.StatusCode;
        if (upstream.ContentType is not null) response.ContentType = upstream.ContentType;
        foreach (var (name, value) in upstream.Headers)
        {
            // The proxy's own request id (the one in its log) stays; the upstream's travels under its own name.
            if (name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase)) response.Headers["X-Upstream-Request-Id"] = value;
            else response.Headers[name] = value;
        }
        if (sse) response.Headers.CacheControl = "no-cache";
    }

    private static async Task WriteErrorEventAsync(ProxyRequest request, UpstreamException failure, bool endsWithBlankLine, SecretRedactor redactor)
    {
        var http = request.Http;
        try
        {
            if (!endsWithBlankLine) http.Response.BodyWriter.Write("\n\n"u8);
            var encoder = request.Client.CreateStreamEncoder(new ChatRequest { Model = request.ClientModel, Stream = true }, request.Endpoint.Framing);
            var message = failure.Kind == FailureKind.Transient && failure.StatusCode == 502
                ? "The upstream connection failed mid-stream; the answer is incomplete."
                : failure.Message;
            encoder.EncodeError(failure.StatusCode, redactor.Redact(message), http.Response.BodyWriter);
            await http.Response.BodyWriter.FlushAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client left too; nothing more to tell it.
        }
    }

    private sealed class PooledArray(byte[] array) : IDisposable
    {
        public void Dispose() => ArrayPool<byte>.Shared.Return(array);
    }
}
