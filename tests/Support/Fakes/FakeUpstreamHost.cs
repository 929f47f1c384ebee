using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Tests.Support.Fakes;

/// <summary>One request as a fake upstream received it.</summary>
internal sealed class RecordedRequest(string method, string path, string query, IReadOnlyDictionary<string, string> headers, byte[] body)
{
    public string Method { get; } = method;
    public string Path { get; } = path;
    /// <summary>The query string including its leading <c>?</c>, or empty.</summary>
    public string Query { get; } = query;
    /// <summary>Header values joined with commas; names case-insensitive.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; } = headers;
    public byte[] Body { get; } = body;
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The body as a JSON object, or null when it is not one.</summary>
    public JsonObject? Json
    {
        get
        {
            try
            {
                return JsonNode.Parse(Body) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// The hosting half of every fake upstream: Kestrel on 127.0.0.1 with an ephemeral port, recording each request before
/// handing it to the fake's handler. Provider-specific fakes (OpenAI, and later Claude, Gemini, Codex, token endpoints)
/// supply only the handler.
/// </summary>
internal sealed class FakeUpstreamHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests;

    private FakeUpstreamHost(WebApplication app, ConcurrentQueue<RecordedRequest> requests)
    {
        _app = app;
        _requests = requests;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Root = new Uri(address.TrimEnd('/'));
    }

    /// <summary><c>http://127.0.0.1:port</c>, without a trailing slash.</summary>
    public Uri Root { get; }

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<FakeUpstreamHost> StartAsync(Func<HttpContext, RecordedRequest, Task> handler)
    {
        var requests = new ConcurrentQueue<RecordedRequest>();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.Run(async http =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var recorded = new RecordedRequest(http.Request.Method, http.Request.Path.Value ?? "", http.Request.QueryString.Value ?? "", headers, buffer.ToArray());
            requests.Enqueue(recorded);
            await handler(http, recorded);
        });
        await app.StartAsync();
        return new FakeUpstreamHost(app, requests);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>How a scripted stream ends.</summary>
internal enum StreamEnd
{
    /// <summary>The response completes normally after the last event.</summary>
    Complete,
    /// <summary>The connection is cut after the events (a mid-stream network failure).</summary>
    Abort,
}

/// <summary>A scripted answer a fake writes for one request.</summary>
internal abstract class FakeReply
{
    public abstract Task WriteAsync(HttpContext http, RecordedRequest request);

    /// <summary>A JSON body with the given status.</summary>
    public static FakeReply Json(JsonNode body, int status = 200, IReadOnlyDictionary<string, string>? headers = null) =>
        new RawReply(status, "application/json", Encoding.UTF8.GetBytes(body.ToJsonString()), headers);

    /// <summary>An error status with a body sent exactly as given.</summary>
    public static FakeReply Error(int status, string body, IReadOnlyDictionary<string, string>? headers = null) =>
        new RawReply(status, "application/json", Encoding.UTF8.GetBytes(body), headers);

    /// <summary>Bytes exactly as given.</summary>
    public static FakeReply Raw(int status, string contentType, byte[] body) => new RawReply(status, contentType, body, null);

    /// <summary>An SSE response: each string is written verbatim and flushed, with an optional pause between them.</summary>
    /// <param name="endWhen">Awaited after the last event, before the stream ends. Aborting right after a write can make the
    /// peer's kernel drop bytes it has not read yet (a reset discards them), so abort tests wait until the client saw them.</param>
    /// <param name="pause">Stops after that many events until the task completes (to observe what a client has received meanwhile).</param>
    public static FakeReply Sse(IEnumerable<string> events, TimeSpan delay = default, StreamEnd end = StreamEnd.Complete, Task? endWhen = null,
        (int After, Task Until)? pause = null) =>
        new SseReply([.. events.Select(Encoding.UTF8.GetBytes)], delay, end, endWhen, pause);

    /// <summary>An SSE response written as the given byte writes (a write may end inside an event or a UTF-8 sequence).</summary>
    public static FakeReply SseBytes(IEnumerable<byte[]> writes, TimeSpan delay = default, StreamEnd end = StreamEnd.Complete) =>
        new SseReply([.. writes], delay, end, null, null);

    private sealed class RawReply(int status, string contentType, byte[] body, IReadOnlyDictionary<string, string>? headers) : FakeReply
    {
        public override async Task WriteAsync(HttpContext http, RecordedRequest request)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = contentType;
            foreach (var (name, value) in headers ?? new Dictionary<string, string>()) http.Response.Headers[name] = value;
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        }
    }

    private sealed class SseReply(List<byte[]> writes, TimeSpan delay, StreamEnd end, Task? endWhen, (int After, Task Until)? pause) : FakeReply
    {
        public override async Task WriteAsync(HttpContext http, RecordedRequest request)
        {
            http.Response.StatusCode = 200;
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            for (var i = 0; i < writes.Count; i++)
            {
                if (i > 0 && delay > TimeSpan.Zero) await Task.Delay(delay, http.RequestAborted);
                if (pause is { } p && p.After == i) await p.Until.WaitAsync(http.RequestAborted);
                await http.Response.Body.WriteAsync(writes[i], http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
            if (endWhen is not null) await endWhen.WaitAsync(http.RequestAborted);
            if (end == StreamEnd.Abort) http.Abort();
        }
    }
}
