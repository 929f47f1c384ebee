using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PluginProxy.Tests.Support.Fakes;

/// <summary>
/// A fake OpenAI-compatible server. <c>POST {BaseUrl}/chat/completions</c> answers with the next scripted reply (a
/// <see cref="ChatReply"/> answers as JSON or SSE depending on the request's <c>stream</c>); with nothing scripted it
/// answers 500 so a test that forgot to script notices. Every request is recorded.
/// </summary>
internal sealed class FakeOpenAIUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private Func<RecordedRequest, FakeReply?>? _responder;
    private readonly string _pathPrefix;
    private FakeUpstreamHost _host = null!;

    private FakeOpenAIUpstream(string pathPrefix) => _pathPrefix = "/" + pathPrefix.Trim('/');

    /// <summary>The base URL an <c>openai-compatibility</c> entry points at (root + path prefix, no trailing slash).</summary>
    public string BaseUrl => _host.Root.GetLeftPart(UriPartial.Authority) + _pathPrefix;

    public IReadOnlyList<RecordedRequest> Requests => _host.Requests;

    /// <summary>The requests to the chat completions endpoint.</summary>
    public IReadOnlyList<RecordedRequest> ChatRequests => [.. Requests.Where(r => r.Path == _pathPrefix + "/chat/completions")];

    /// <param name="pathPrefix">Path the API lives under, <c>/v1</c> like OpenAI's by default.</param>
    public static async Task<FakeOpenAIUpstream> StartAsync(string pathPrefix = "/v1")
    {
        var fake = new FakeOpenAIUpstream(pathPrefix);
        fake._host = await FakeUpstreamHost.StartAsync(fake.HandleAsync);
        return fake;
    }

    /// <summary>Adds replies, used in order by the next chat completion requests.</summary>
    public FakeOpenAIUpstream Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies) _replies.Enqueue(reply);
        return this;
    }

    /// <summary>Answers each request by looking at it (for example per API key, to play several accounts); a null answer falls back to the queue.</summary>
    public FakeOpenAIUpstream RespondWith(Func<RecordedRequest, FakeReply?> responder)
    {
        _responder = responder;
        return this;
    }

    private Task HandleAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Method == "POST" && request.Path == _pathPrefix + "/chat/completions")
        {
            if (_responder?.Invoke(request) is { } answer) return answer.WriteAsync(http, request);
            return _replies.TryDequeue(out var reply)
                ? reply.WriteAsync(http, request)
                : FakeReply.Error(500, """{"error":{"message":"fake upstream: no reply scripted","type":"server_error","code":null}}""").WriteAsync(http, request);
        }
        return FakeReply.Error(404, $$$"""{"error":{"message":"fake upstream: no route {{{request.Method}}} {{{request.Path}}}","type":"invalid_request_error","code":null}}""")
            .WriteAsync(http, request);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

/// <summary>Token counts a scripted reply reports, in OpenAI's terms (prompt includes cached; completion includes reasoning).</summary>
internal sealed record FakeUsage(int Prompt, int Completion, int Cached = 0, int Reasoning = 0);

/// <summary>How a scripted stream goes wrong after its first chunks.</summary>
// Public: test theories take it as a parameter.
public enum MidStreamFailure
{
    None,
    /// <summary>The connection is cut.</summary>
    Abort,
    /// <summary>An <c>{"error":...}</c> chunk is sent and the stream ends.</summary>
    ErrorChunk,
}

/// <summary>
/// A scripted OpenAI chat answer: text, reasoning_content, tool calls (parallel when several), finish reason and usage.
/// Non-streaming requests get a <c>chat.completion</c>; streaming ones get <c>chat.completion.chunk</c>s the way OpenAI
/// sends them (role chunk, one chunk per piece, tool-call arguments in two fragments, finish chunk, usage chunk when
/// <c>stream_options.include_usage</c> is set, <c>[DONE]</c>).
/// </summary>
internal sealed class ChatReply : FakeReply
{
    public const long Created = 1_700_000_000;

    private readonly List<string> _text = [];
    private readonly List<string> _reasoning = [];
    private readonly List<(string Id, string Name, string Arguments)> _toolCalls = [];
    private string? _finishReason;
    private FakeUsage? _usage = new(11, 7);
    private TimeSpan _delay;
    private Task? _hold;
    private int _failAfter = -1;
    private MidStreamFailure _failure;
    private Task? _failWhen;
    private (int After, Task Until)? _pause;

    public string Id { get; init; } = "chatcmpl-fake1";

    /// <summary>Answers with the text; when streamed, each piece is one delta.</summary>
    public static ChatReply Text(params string[] pieces)
    {
        var reply = new ChatReply();
        reply._text.AddRange(pieces);
        return reply;
    }

    /// <summary>Answers with tool calls only (several = parallel calls).</summary>
    public static ChatReply ToolCalls(params (string Id, string Name, string Arguments)[] calls)
    {
        var reply = new ChatReply();
        reply._toolCalls.AddRange(calls);
        return reply;
    }

    public ChatReply WithText(params string[] pieces)
    {
        _text.AddRange(pieces);
        return this;
    }

    public ChatReply WithReasoning(params string[] pieces)
    {
        _reasoning.AddRange(pieces);
        return this;
    }

    public ChatReply WithToolCall(string id, string name, string arguments)
    {
        _toolCalls.Add((id, name, arguments));
        return this;
    }

    /// <summary>Overrides the finish reason (default: <c>tool_calls</c> with tool calls, else <c>stop</c>).</summary>
    public ChatReply WithFinish(string reason)
    {
        _finishReason = reason;
        return this;
    }

    /// <summary>Sets the usage; null sends none.</summary>
    public ChatReply WithUsage(FakeUsage? usage)
    {
        _usage = usage;
        return this;
    }

    /// <summary>Holds a non-streaming answer back until <paramref name="until"/> completes.</summary>
    public ChatReply HeldUntil(Task until)
    {
        _hold = until;
        return this;
    }

    /// <summary>Pauses between stream chunks.</summary>
    public ChatReply WithChunkDelay(TimeSpan delay)
    {
        _delay = delay;
        return this;
    }

    /// <summary>Sends only the first <paramref name="chunks"/> stream chunks, then fails as <paramref name="how"/> says, once <paramref name="when"/> completes.</summary>
    public ChatReply FailingAfter(int chunks, MidStreamFailure how, Task? when = null)
    {
        _failAfter = chunks;
        _failure = how;
        _failWhen = when;
        return this;
    }

    /// <summary>Holds the stream after its first <paramref name="chunks"/> chunks until <paramref name="until"/> completes.</summary>
    public ChatReply PausingAfter(int chunks, Task until)
    {
        _pause = (chunks, until);
        return this;
    }

    public string FinishReason => _finishReason ?? (_toolCalls.Count > 0 ? "tool_calls" : "stop");

    public override Task WriteAsync(HttpContext http, RecordedRequest request)
    {
        var json = request.Json;
        var model = json?["model"]?.GetValue<string>() ?? "unknown";
        if (json?["stream"] is JsonValue s && s.TryGetValue<bool>(out var stream) && stream)
        {
            var includeUsage = json["stream_options"]?["include_usage"] is JsonValue u && u.TryGetValue<bool>(out var include) && include;
            var chunks = Chunks(model, includeUsage);
            var end = StreamEnd.Complete;
            if (_failure != MidStreamFailure.None)
            {
                chunks = chunks.Take(_failAfter).ToList();
                if (_failure == MidStreamFailure.Abort) end = StreamEnd.Abort;
                else chunks.Add("data: " + """{"error":{"message":"upstream overloaded mid-stream","type":"server_error","code":"overloaded"}}""" + "\n\n");
            }
            return Sse(chunks, _delay, end, _failWhen, _pause).WriteAsync(http, request);
        }
        return _hold is null ? Json(Completion(model)).WriteAsync(http, request) : WriteHeldAsync(http, request, model);
    }

    private async Task WriteHeldAsync(HttpContext http, RecordedRequest request, string model)
    {
        await _hold!;
        await Json(Completion(model)).WriteAsync(http, request);
    }

    /// <summary>The non-streaming body.</summary>
    public JsonObject Completion(string model)
    {
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = _text.Count > 0 ? string.Concat(_text) : null,
        };
        if (_reasoning.Count > 0) message["reasoning_content"] = string.Concat(_reasoning);
        if (_toolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray([.. _toolCalls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            })]);
        }
        var body = new JsonObject
        {
            ["id"] = Id,
            ["object"] = "chat.completion",
            ["created"] = Created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = FinishReason,
            }),
        };
        if (_usage is not null) body["usage"] = Usage(_usage);
        return body;
    }

    /// <summary>The streaming chunks as SSE events, <c>[DONE]</c> included.</summary>
    public List<string> Chunks(string model, bool includeUsage)
    {
        var events = new List<string> { Chunk(model, Delta(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null)) };
        foreach (var piece in _reasoning) events.Add(Chunk(model, Delta(new JsonObject { ["reasoning_content"] = piece }, null)));
        foreach (var piece in _text) events.Add(Chunk(model, Delta(new JsonObject { ["content"] = piece }, null)));
        for (var i = 0; i < _toolCalls.Count; i++)
        {
            var (id, name, arguments) = _toolCalls[i];
            events.Add(Chunk(model, Delta(ToolCallDelta(i, new JsonObject { ["name"] = name, ["arguments"] = "" }, id), null)));
            var half = arguments.Length / 2;
            foreach (var fragment in new[] { arguments[..half], arguments[half..] })
                events.Add(Chunk(model, Delta(ToolCallDelta(i, new JsonObject { ["arguments"] = fragment }, null), null)));
        }
        events.Add(Chunk(model, Delta(new JsonObject(), FinishReason)));
        if (includeUsage && _usage is not null)
            events.Add(Chunk(model, new JsonArray(), Usage(_usage)));
        events.Add("data: [DONE]\n\n");
        return events;
    }

    private string Chunk(string model, JsonArray choices, JsonObject? usage = null)
    {
        var chunk = new JsonObject
        {
            ["id"] = Id,
            ["object"] = "chat.completion.chunk",
            ["created"] = Created,
            ["model"] = model,
            ["choices"] = choices,
        };
        if (usage is not null) chunk["usage"] = usage;
        return "data: " + chunk.ToJsonString() + "\n\n";
    }

    private static JsonArray Delta(JsonObject delta, string? finishReason) =>
        new(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason });

    private static JsonObject ToolCallDelta(int index, JsonObject function, string? id)
    {
        var call = new JsonObject { ["index"] = index };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }
        call["function"] = function;
        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    private static JsonObject Usage(FakeUsage usage) => new()
    {
        ["prompt_tokens"] = usage.Prompt,
        ["completion_tokens"] = usage.Completion,
        ["total_tokens"] = usage.Prompt + usage.Completion,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.Cached },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.Reasoning },
    };
}
