using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Codex;

/// <summary>The built Codex plugin, loaded from the test output's plugins folder (the tests see it only through the contract).</summary>
internal static class CodexPluginUnderTest
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "plugins");

    private static readonly Lazy<IProviderPlugin> Instance = new(() =>
    {
        var assembly = Assembly.LoadFrom(Path.Combine(Folder, "PluginProxy.Plugins.Codex", "PluginProxy.Plugins.Codex.dll"));
        return (IProviderPlugin)Activator.CreateInstance(assembly.GetType("PluginProxy.Plugins.Codex.CodexPlugin", throwOnError: true)!)!;
    });

    public static IProviderPlugin Plugin => Instance.Value;
}

/// <summary>A fake Codex backend on loopback: answers each POST with the next scripted reply and records it.</summary>
internal sealed class FakeCodex : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private FakeUpstreamHost _host = null!;

    /// <summary>The base URL standing in for <c>https://chatgpt.com/backend-api/codex</c>.</summary>
    public string BaseUrl => _host.Root + "backend-api/codex";

    public IReadOnlyList<RecordedRequest> Requests => _host.Requests;

    public static async Task<FakeCodex> StartAsync()
    {
        var fake = new FakeCodex();
        fake._host = await FakeUpstreamHost.StartAsync((http, request) =>
            fake._replies.TryDequeue(out var reply)
                ? reply.WriteAsync(http, request)
                : FakeReply.Error(500, """{"error":{"message":"fake codex: nothing scripted"}}""").WriteAsync(http, request));
        return fake;
    }

    public FakeCodex Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies) _replies.Enqueue(reply);
        return this;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

/// <summary>Codex SSE answers as the backend writes them (<c>event:</c> line, JSON data with the same type).</summary>
internal static class CodexSse
{
    public static string Event(JsonObject data) => $"event: {(string)data["type"]!}\ndata: {data.ToJsonString()}\n\n";

    public static JsonObject Usage(int input = 9, int output = 4) =>
        new() { ["input_tokens"] = input, ["output_tokens"] = output, ["total_tokens"] = input + output, ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 } };

    private static JsonObject Response(string status, JsonArray output, JsonObject? usage = null) => new()
    {
        ["id"] = "resp_fake1", ["object"] = "response", ["created_at"] = 1767225600, ["status"] = status, ["model"] = "gpt-5-codex",
        ["output"] = output, ["usage"] = usage,
    };

    private static JsonObject Message(string text) => new()
    {
        ["type"] = "message", ["id"] = "msg_1", ["status"] = "completed", ["role"] = "assistant",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }),
    };

    /// <summary>A text answer streamed in pieces, optionally without its final <c>response.completed</c>.</summary>
    public static List<string> Text(string[] pieces, bool complete = true)
    {
        var text = string.Concat(pieces);
        var events = new List<string>
        {
            Event(new JsonObject { ["type"] = "response.created", ["sequence_number"] = 0, ["response"] = Response("in_progress", []) }),
            Event(new JsonObject { ["type"] = "response.output_item.added", ["sequence_number"] = 1, ["output_index"] = 0,
                ["item"] = new JsonObject { ["type"] = "message", ["id"] = "msg_1", ["status"] = "in_progress", ["role"] = "assistant", ["content"] = new JsonArray() } }),
            Event(new JsonObject { ["type"] = "response.content_part.added", ["sequence_number"] = 2, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0,
                ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = "", ["annotations"] = new JsonArray() } }),
        };
        var seq = 3;
        foreach (var piece in pieces)
            events.Add(Event(new JsonObject { ["type"] = "response.output_text.delta", ["sequence_number"] = seq++, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0, ["delta"] = piece }));
        events.Add(Event(new JsonObject { ["type"] = "response.output_text.done", ["sequence_number"] = seq++, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0, ["text"] = text }));
        events.Add(Event(new JsonObject { ["type"] = "response.content_part.done", ["sequence_number"] = seq++, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0,
            ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() } }));
        events.Add(Event(new JsonObject { ["type"] = "response.output_item.done", ["sequence_number"] = seq++, ["output_index"] = 0, ["item"] = Message(text) }));
        if (complete)
            events.Add(Event(new JsonObject { ["type"] = "response.completed", ["sequence_number"] = seq, ["response"] = Response("completed", new JsonArray(Message(text)), Usage()) }));
        return events;
    }

    /// <summary>One function call.</summary>
    public static List<string> ToolCall(string callId, string name, string arguments)
    {
        JsonObject Item(string status) => new()
        {
            ["type"] = "function_call", ["id"] = "fc_1", ["status"] = status, ["call_id"] = callId, ["name"] = name, ["arguments"] = status == "completed" ? arguments : "",
        };
        return
        [
            Event(new JsonObject { ["type"] = "response.created", ["sequence_number"] = 0, ["response"] = Response("in_progress", []) }),
            Event(new JsonObject { ["type"] = "response.output_item.added", ["sequence_number"] = 1, ["output_index"] = 0, ["item"] = Item("in_progress") }),
            Event(new JsonObject { ["type"] = "response.function_call_arguments.delta", ["sequence_number"] = 2, ["item_id"] = "fc_1", ["output_index"] = 0, ["delta"] = arguments }),
            Event(new JsonObject { ["type"] = "response.function_call_arguments.done", ["sequence_number"] = 3, ["item_id"] = "fc_1", ["output_index"] = 0, ["arguments"] = arguments }),
            Event(new JsonObject { ["type"] = "response.output_item.done", ["sequence_number"] = 4, ["output_index"] = 0, ["item"] = Item("completed") }),
            Event(new JsonObject { ["type"] = "response.completed", ["sequence_number"] = 5, ["response"] = Response("completed", new JsonArray(Item("completed")), Usage()) }),
        ];
    }

    /// <summary>The answer to a <c>compaction_trigger</c>: exactly one <c>compaction</c> item with encrypted content.</summary>
    public static List<string> Compaction(string encrypted)
    {
        var item = new JsonObject { ["type"] = "compaction", ["id"] = "cmp_1", ["encrypted_content"] = encrypted };
        return
        [
            Event(new JsonObject { ["type"] = "response.created", ["sequence_number"] = 0, ["response"] = Response("in_progress", []) }),
            Event(new JsonObject { ["type"] = "response.output_item.added", ["sequence_number"] = 1, ["output_index"] = 0, ["item"] = item.DeepClone() }),
            Event(new JsonObject { ["type"] = "response.output_item.done", ["sequence_number"] = 2, ["output_index"] = 0, ["item"] = item.DeepClone() }),
            Event(new JsonObject { ["type"] = "response.completed", ["sequence_number"] = 3, ["response"] = Response("completed", new JsonArray(item.DeepClone()), Usage()) }),
        ];
    }

    public static FakeReply Reply(IEnumerable<string> events) => FakeReply.Sse(events);
}

/// <summary>Credentials as the host builds them: a ChatGPT login file and a <c>codex-api-key</c> entry.</summary>
internal static class CodexCredentials
{
    public static CredentialRecord OAuth(string accessToken = "at-oauth-123456", string accountId = "acct-123") => new()
    {
        Id = "codex-a@b.test-plus.json", Type = "codex", Provider = "codex", Label = "a@b.test", Source = CredentialSource.File,
        Metadata = System.Text.Json.JsonDocument.Parse(new JsonObject
        {
            ["type"] = "codex", ["access_token"] = accessToken, ["refresh_token"] = "rt-oauth-123456", ["account_id"] = accountId, ["email"] = "a@b.test",
        }.ToJsonString()).RootElement.Clone(),
    };

    public static CredentialRecord ApiKey(string baseUrl, string key = "sk-codex-key-123456") => new()
    {
        Id = "codex:abc", Type = "codex", Provider = "codex", Label = "codex key", Source = CredentialSource.Config, ApiKey = key, BaseUrl = baseUrl,
    };

    public static string AuthFile(string accessToken = "at-oauth-123456", string accountId = "acct-123") => new JsonObject
    {
        ["type"] = "codex", ["access_token"] = accessToken, ["refresh_token"] = "rt-oauth-123456", ["account_id"] = accountId, ["email"] = "a@b.test",
        ["expired"] = "2099-01-01T00:00:00Z",
    }.ToJsonString();
}

/// <summary>An <see cref="UpstreamCall"/> for calling the executor directly.</summary>
internal static class CodexCalls
{
    public static UpstreamCall For(CredentialRecord credential, HttpClient http, string apiUrl, string model = "gpt-5-codex",
        IReadOnlyDictionary<string, string>? clientHeaders = null, TimeProvider? clock = null)
    {
        var settings = System.Text.Json.JsonDocument.Parse(new JsonObject { ["api-url"] = apiUrl }.ToJsonString()).RootElement.Clone();
        return new UpstreamCall
        {
            Credential = credential,
            UpstreamModel = model,
            Http = http,
            Log = new NullLog(),
            Settings = new PluginSettings(settings, default),
            ClientHeaders = clientHeaders ?? new Dictionary<string, string>(),
            Clock = clock ?? TimeProvider.System,
        };
    }

    private sealed class NullLog : IPluginLog
    {
        public void Debug(string template, params object?[] args) { }
        public void Info(string template, params object?[] args) { }
        public void Warn(string template, params object?[] args) { }
        public void Error(Exception? exception, string template, params object?[] args) { }
    }

    public static NativeRequest Native(string json, bool stream, string? operation = null) =>
        new() { Body = Encoding.UTF8.GetBytes(json), Stream = stream, Operation = operation };
}
