using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Server;

namespace PluginProxy.Bench.Proxying;

/// <summary>
/// One whole request through the real server in this process, against an in-process fake upstream that answers with
/// the harness's static files. <c>Direct</c> (the baseline) sends the same body straight to the fake upstream, so
/// "Allocated" minus Direct's is what the proxy allocates per request (client and upstream costs cancel). Times on a
/// shared machine are noise; the allocation column is stable.
/// </summary>
[MemoryDiagnoser]
public class EndToEndBench
{
    private WebApplication _upstream = null!;
    private ProxyServer _proxy = null!;
    private HttpClient _direct = null!;
    private HttpClient _client = null!;
    private byte[] _chat = null!;
    private byte[] _messages = null!;
    private byte[] _chatStream = null!;
    private byte[] _messagesStream = null!;
    private string _root = null!;

    [Params("small", "large")]
    public string Body { get; set; } = "small";

    private TextWriter _console = null!;


    [GlobalSetup]
    public void Setup()
    {
        // The access log goes to the console as shipped (its cost counts); its lines are not the benchmark's output.
        _console = Console.Out;
        Console.SetOut(TextWriter.Null);
        _chat = Fixture.Request("chat", Body);
        _messages = Fixture.Request("messages", Body);
        _chatStream = Fixture.Bytes("request.chat.small.stream.json");
        _messagesStream = Fixture.Bytes("request.messages.small.stream.json");
        _upstream = FakeUpstream.Start();
        var upstreamUrl = _upstream.Urls.First();
        _root = Directory.CreateTempSubdirectory("pluginproxy-bench-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "auths"));
        File.WriteAllText(Path.Combine(_root, "config.yaml"), $"""
            host: 127.0.0.1
            api-keys: ["sk-bench"]
            auth-dir: "{Path.Combine(_root, "auths")}"
            openai-compatibility:
              - name: fake
                base-url: "{upstreamUrl}/v1"
                api-key-entries: [{"{"}api-key: "sk-upstream"{"}"}]
                models:
                  - name: fake-model
                    alias: fake-model
            """);
        _proxy = ProxyServer.StartAsync(new ServerOptions
        {
            ConfigPath = Path.Combine(_root, "config.yaml"),
            PluginsFolder = Path.Combine(AppContext.BaseDirectory, "plugins"),
            Port = 0,
        }).GetAwaiter().GetResult();
        _direct = new HttpClient { BaseAddress = new Uri(upstreamUrl) };
        _client = new HttpClient { BaseAddress = _proxy.Address };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-bench");
        _client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        // Fail early if the setup does not serve what the benchmarks measure.
        foreach (var (path, body) in new[] { ("/v1/chat/completions", _chat), ("/v1/messages", _messages) })
        {
            using var response = _client.Send(Post(path, body));
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().Result}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _direct.Dispose();
        _proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _upstream.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
        Console.SetOut(_console);
    }

    [Benchmark(Baseline = true)]
    public Task<int> Direct() => SendAsync(_direct, "/v1/chat/completions", _chat);

    [Benchmark]
    public Task<int> ChatPassthrough() => SendAsync(_client, "/v1/chat/completions", _chat);

    [Benchmark]
    public Task<int> MessagesToChatTranslated() => SendAsync(_client, "/v1/messages", _messages);

    [Benchmark]
    public Task<int> ChatPassthroughStream() => SendAsync(_client, "/v1/chat/completions", _chatStream);

    [Benchmark]
    public Task<int> MessagesToChatTranslatedStream() => SendAsync(_client, "/v1/messages", _messagesStream);

    private static HttpRequestMessage Post(string path, byte[] body) =>
        new(HttpMethod.Post, path) { Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } } };

    private static async Task<int> SendAsync(HttpClient client, string path, byte[] body)
    {
        using var response = await client.SendAsync(Post(path, body), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        var total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return response.StatusCode == HttpStatusCode.OK ? total : throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
    }
}

/// <summary>The harness's fake upstream in-process: static answers, SSE when the body asks for a stream.</summary>
internal static class FakeUpstream
{
    public static WebApplication Start(string url = "http://127.0.0.1:0")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        foreach (var dialect in new[] { "chat", "messages", "responses" })
        {
            var json = Fixture.Bytes($"upstream.{dialect}.json");
            var sse = Fixture.Bytes($"upstream.{dialect}.sse");
            var path = dialect switch { "chat" => "/v1/chat/completions", "messages" => "/v1/messages", _ => "/v1/responses" };
            app.MapPost(path, async (HttpContext http) => await AnswerAsync(http, json, sse));
        }
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    private static async Task AnswerAsync(HttpContext http, byte[] json, byte[] sse)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length))) > 0)
        {
            length += read;
            if (length == buffer.Length)
            {
                var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
        }
        var stream = buffer.AsSpan(0, length).IndexOf("\"stream\":true"u8) >= 0;
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        http.Response.ContentType = stream ? "text/event-stream" : "application/json";
        await http.Response.Body.WriteAsync(stream ? sse : json);
    }
}
