using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Claude;

/// <summary>The built Claude plugin, loaded from the test output's plugins folder (its types are reached through the contract).</summary>
internal static class ClaudePluginUnderTest
{
    private static readonly Lazy<IProviderPlugin> Instance = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "plugins", "PluginProxy.Plugins.Claude", "PluginProxy.Plugins.Claude.dll");
        var type = Assembly.LoadFrom(path).GetType("PluginProxy.Plugins.Claude.ClaudePlugin", throwOnError: true)!;
        return (IProviderPlugin)Activator.CreateInstance(type)!;
    });

    public static IProviderPlugin Plugin => Instance.Value;
    public static IExecutor Executor => Plugin.Executor;
    public static IAuthenticator Authenticator => Plugin.Authenticator!;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fake Anthropic API: scripted replies in order (default: a short text stream or message), every request recorded.</summary>
internal sealed class FakeAnthropic : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private FakeUpstreamHost _host = null!;

    public string BaseUrl => _host.Root.ToString().TrimEnd('/');
    public IReadOnlyList<RecordedRequest> Requests => _host.Requests;
    public IReadOnlyList<RecordedRequest> Messages => [.. Requests.Where(r => r.Path == "/v1/messages")];

    public static async Task<FakeAnthropic> StartAsync()
    {
        var fake = new FakeAnthropic();
        fake._host = await FakeUpstreamHost.StartAsync((http, request) =>
        {
            if (fake._replies.TryDequeue(out var reply)) return reply.WriteAsync(http, request);
            if (request.Path.EndsWith("/count_tokens", StringComparison.Ordinal))
                return FakeReply.Json(new JsonObject { ["input_tokens"] = 42 }).WriteAsync(http, request);
            var stream = request.Json?["stream"] is JsonValue s && s.GetValue<bool>();
            return (stream ? AnthropicReplies.TextStream("Hello", " from Claude") : AnthropicReplies.TextMessage("Hello from Claude")).WriteAsync(http, request);
        });
        return fake;
    }

    public FakeAnthropic Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies) _replies.Enqueue(reply);
        return this;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

/// <summary>Anthropic answers as the real API writes them.</summary>
internal static class AnthropicReplies
{
    public static string Event(string type, JsonObject data)
    {
        data["type"] = type;
        return $"event: {type}\ndata: {data.ToJsonString()}\n\n";
    }

    private static string Start(string model = "claude-sonnet-4-5-20250929") => Event("message_start", new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["id"] = "msg_fake1", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
            ["stop_reason"] = null, ["usage"] = new JsonObject { ["input_tokens"] = 11, ["output_tokens"] = 1 },
        },
    });

    private static IEnumerable<string> End(string stop) =>
    [
        Event("message_delta", new JsonObject { ["delta"] = new JsonObject { ["stop_reason"] = stop }, ["usage"] = new JsonObject { ["output_tokens"] = 7 } }),
        Event("message_stop", new JsonObject()),
    ];

    public static FakeReply TextStream(params string[] texts) => FakeReply.Sse(TextEvents(texts));

    public static IEnumerable<string> TextEvents(params string[] texts)
    {
        yield return Start();
        yield return Event("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
        foreach (var t in texts)
            yield return Event("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = t } });
        yield return Event("content_block_stop", new JsonObject { ["index"] = 0 });
        foreach (var e in End("end_turn")) yield return e;
    }

    /// <summary>Thinking (with a signature), then one tool call.</summary>
    public static FakeReply ToolStream(string toolName, string toolId, string argumentsJson, string? thinking = null, string? signature = null)
    {
        var events = new List<string> { Start() };
        var index = 0;
        if (thinking is not null)
        {
            events.Add(Event("content_block_start", new JsonObject { ["index"] = index, ["content_block"] = new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" } }));
            events.Add(Event("content_block_delta", new JsonObject { ["index"] = index, ["delta"] = new JsonObject { ["type"] = "thinking_delta", ["thinking"] = thinking } }));
            events.Add(Event("content_block_delta", new JsonObject { ["index"] = index, ["delta"] = new JsonObject { ["type"] = "signature_delta", ["signature"] = signature } }));
            events.Add(Event("content_block_stop", new JsonObject { ["index"] = index }));
            index++;
        }
        events.Add(Event("content_block_start", new JsonObject
        {
            ["index"] = index, ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = toolId, ["name"] = toolName, ["input"] = new JsonObject() },
        }));
        events.Add(Event("content_block_delta", new JsonObject { ["index"] = index, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = argumentsJson } }));
        events.Add(Event("content_block_stop", new JsonObject { ["index"] = index }));
        events.AddRange(End("tool_use"));
        return FakeReply.Sse(events);
    }

    public static FakeReply TextMessage(string text) => FakeReply.Json(new JsonObject
    {
        ["id"] = "msg_fake1", ["type"] = "message", ["role"] = "assistant", ["model"] = "claude-sonnet-4-5-20250929",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
        ["stop_reason"] = "end_turn", ["usage"] = new JsonObject { ["input_tokens"] = 11, ["output_tokens"] = 7 },
    });

    public static FakeReply ToolMessage(string toolName, string toolId) => FakeReply.Json(new JsonObject
    {
        ["id"] = "msg_fake2", ["type"] = "message", ["role"] = "assistant", ["model"] = "claude-sonnet-4-5-20250929",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = toolId, ["name"] = toolName, ["input"] = new JsonObject { ["city"] = "Paris" } }),
        ["stop_reason"] = "tool_use", ["usage"] = new JsonObject { ["input_tokens"] = 11, ["output_tokens"] = 7 },
    });

    public static FakeReply RateLimited(string message, IReadOnlyDictionary<string, string>? headers = null) =>
        FakeReply.Error(429, new JsonObject
        {
            ["type"] = "error", ["error"] = new JsonObject { ["type"] = "rate_limit_error", ["message"] = message },
        }.ToJsonString(), headers);
}

/// <summary>An HttpClient handler that answers in memory: executor tests that need the real Anthropic URL never leave the process.</summary>
internal sealed class CapturingHandler(Func<HttpRequestMessage, HttpResponseMessage> reply) : HttpMessageHandler
{
    public List<(HttpRequestMessage Request, byte[] Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Add((request, body));
        return reply(request);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}

/// <summary>Builds the objects an executor call needs.</summary>
internal static class ClaudeCalls
{
    public static CredentialRecord OAuthFile(string token = "sk-ant-oat01-test-token", string? baseUrl = null)
    {
        var meta = new JsonObject { ["type"] = "claude", ["email"] = "a@b.test", ["access_token"] = token, ["refresh_token"] = "sk-ant-ort01-r" };
        if (baseUrl is not null) meta["base_url"] = baseUrl;
        return new CredentialRecord
        {
            Id = "claude-a@b.test.json", Type = "claude", Provider = "claude", Label = "a@b.test", Source = CredentialSource.File,
            Metadata = System.Text.Json.JsonSerializer.SerializeToElement(meta),
        };
    }

    public static CredentialRecord ApiKey(string key = "sk-ant-api03-test", string? baseUrl = null, JsonObject? cloak = null) => new()
    {
        Id = "claude:apikey:1", Type = "claude", Provider = "claude", Label = "claude-apikey", Source = CredentialSource.Config,
        ApiKey = key, BaseUrl = baseUrl,
        Metadata = cloak is null ? default : System.Text.Json.JsonSerializer.SerializeToElement(new JsonObject { ["cloak"] = cloak }),
    };

    public static UpstreamCall Call(CredentialRecord credential, HttpClient http, IReadOnlyDictionary<string, string>? clientHeaders = null, string model = "claude-sonnet-4-5-20250929") => new()
    {
        Credential = credential,
        UpstreamModel = model,
        Http = http,
        Log = NullPluginLog.Instance,
        ClientHeaders = clientHeaders ?? new Dictionary<string, string>(),
    };
}

internal sealed class NullPluginLog : IPluginLog
{
    public static readonly NullPluginLog Instance = new();
    public void Debug(string template, params object?[] args) { }
    public void Info(string template, params object?[] args) { }
    public void Warn(string template, params object?[] args) { }
    public void Error(Exception? exception, string template, params object?[] args) { }
}
