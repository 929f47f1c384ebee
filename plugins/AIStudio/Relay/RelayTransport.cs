using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// The transport of one attempt on a relay account (<c>IProviderPlugin.TransportFor</c>): the host's request, with its
/// concerns already applied, becomes an <c>http_request</c> to the channel's session, and the reply becomes the
/// response — <c>http_response</c> as a buffered body, <c>stream_start</c> / <c>stream_chunk</c> / <c>stream_end</c> as a
/// body that yields each chunk as it arrives. A session that is gone or dies before the reply starts fails with a
/// transient <see cref="UpstreamException"/> (the host moves on to another account); after, the body's stream throws.
/// </summary>
internal sealed class RelayTransport(RelayHub hub, string channel, TimeProvider clock) : HttpMessageHandler
{
    // Hop-by-hop and framing headers: the relay client's fetch already decoded and de-chunked the body.
    private static readonly HashSet<string> DroppedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
    };

    private static readonly HashSet<string> DroppedRequestHeaders = new(StringComparer.OrdinalIgnoreCase) { "host", "content-length", "connection" };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var session = hub.Find(channel) ?? throw NotConnected("it is not connected");
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var headers = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
        {
            if (DroppedRequestHeaders.Contains(name)) continue;
            if (!headers.TryGetValue(name, out var list)) headers[name] = list = [];
            list.AddRange(values);
        }
        var id = Guid.NewGuid().ToString();
        PendingReply pending;
        try
        {
            pending = session.Begin(id);
        }
        catch (RelaySessionEndedException e)
        {
            throw NotConnected(e.Reason, e);
        }
        try
        {
            await session.SendAsync(RelayMessage.Request(id, request.Method.Method, request.RequestUri!.ToString(), headers, body, clock.GetUtcNow()), cancellationToken)
                .ConfigureAwait(false);
            var first = await pending.NextAsync(cancellationToken).ConfigureAwait(false)
                ?? throw NotConnected("the reply ended before it started");
            var response = Start(first, pending, request);
            if (first.IsTerminal || response.Content is not RelayBodyContent) pending.Dispose();
            return response;
        }
        catch (RelaySessionEndedException e)
        {
            pending.Dispose();
            throw NotConnected(e.Reason, e);
        }
        catch (RelayOverflowException e)
        {
            pending.Dispose();
            throw new UpstreamException(FailureKind.Transient, 502, $"AI Studio relay: {e.Message}", inner: e);
        }
        catch
        {
            pending.Dispose();
            throw;
        }
    }

    private HttpResponseMessage Start(RelayMessage first, PendingReply pending, HttpRequestMessage request)
    {
        switch (first.Type)
        {
            case RelayMessage.HttpResponse:
                return Response(first.Status(200), first, new ByteArrayContent(Encoding.UTF8.GetBytes(first.Field("body") ?? "")), request);
            case RelayMessage.StreamStart:
                return Response(first.Status(200), first, new RelayBodyContent(pending, null), request);
            case RelayMessage.StreamChunk:
                // A stream without its start: CLIProxyAPI treats it as 200.
                return Response(200, null, new RelayBodyContent(pending, first), request);
            case RelayMessage.StreamEnd:
                return Response(200, null, new ByteArrayContent([]), request);
            case RelayMessage.Error:
                var message = first.Field("error") is { Length: > 0 } text ? text : "the relay client reported an error";
                var status = first.Status(0);
                if (status < 400) throw new UpstreamException(FailureKind.Transient, 502, $"The AI Studio relay: {message}");
                // An upstream status the browser saw: answered as Google would, so the failure is classified by status.
                var error = new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message } };
                var content = new ByteArrayContent(Encoding.UTF8.GetBytes(error.ToJsonString()));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return new HttpResponseMessage((HttpStatusCode)status) { Content = content, RequestMessage = request };
            default:
                throw new UpstreamException(FailureKind.Transient, 502, $"The AI Studio relay: unexpected '{first.Type}' reply");
        }
    }

    private static HttpResponseMessage Response(int status, RelayMessage? start, HttpContent content, HttpRequestMessage request)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = content, RequestMessage = request };
        foreach (var (name, value) in start?.Headers() ?? [])
        {
            if (DroppedResponseHeaders.Contains(name)) continue;
            if (!response.Headers.TryAddWithoutValidation(name, value)) content.Headers.TryAddWithoutValidation(name, value);
        }
        return response;
    }

    private UpstreamException NotConnected(string reason, Exception? inner = null) =>
        new(FailureKind.Transient, 502, $"The AI Studio relay cannot serve the request: {reason}.", inner: inner);
}
