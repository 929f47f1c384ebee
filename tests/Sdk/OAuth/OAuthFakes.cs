using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Web;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Sdk.OAuth;

/// <summary>A fake token (or device authorization) endpoint: answers POSTs with scripted replies, in order, and records them.</summary>
internal sealed class FakeTokenEndpoint : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private FakeUpstreamHost _host = null!;

    public string Url(string path = "/token") => _host.Root + path.TrimStart('/');

    public IReadOnlyList<RecordedRequest> Requests => _host.Requests;

    public static async Task<FakeTokenEndpoint> StartAsync()
    {
        var fake = new FakeTokenEndpoint();
        fake._host = await FakeUpstreamHost.StartAsync((http, request) =>
            fake._replies.TryDequeue(out var reply)
                ? reply.WriteAsync(http, request)
                : FakeReply.Error(500, """{"error":"server_error","error_description":"fake: nothing scripted"}""").WriteAsync(http, request));
        return fake;
    }

    public FakeTokenEndpoint Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies) _replies.Enqueue(reply);
        return this;
    }

    public static FakeReply Tokens(string access = "at-1", string refresh = "rt-1", int expiresIn = 3600) =>
        FakeReply.Json(new JsonObject
        {
            ["access_token"] = access, ["refresh_token"] = refresh, ["id_token"] = "idt-1", ["expires_in"] = expiresIn,
            ["token_type"] = "Bearer", ["account"] = new JsonObject { ["email_address"] = "a@b.test" },
        });

    public static FakeReply OAuthError(int status, string error, string? description = null) =>
        FakeReply.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, status);

    /// <summary>The form fields of a recorded form-urlencoded body.</summary>
    public static Dictionary<string, string> Form(RecordedRequest request)
    {
        var parsed = HttpUtility.ParseQueryString(request.BodyText);
        return parsed.AllKeys.ToDictionary(k => k!, k => parsed[k]!);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

/// <summary>
/// Plays the user's browser: <see cref="Open"/> is the <see cref="LoginContext.OpenBrowser"/> hook and records the
/// authorize URL; the test then issues the redirect's GET itself.
/// </summary>
internal sealed class FakeBrowser
{
    private readonly TaskCompletionSource<Uri> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Open(string url)
    {
        _opened.TrySetResult(new Uri(url));
        return true;
    }

    public Task<Uri> Opened => _opened.Task;

    public static string Param(Uri url, string name) => HttpUtility.ParseQueryString(url.Query)[name]!;

    /// <summary>Waits for the authorize URL, then GETs its redirect URI (on 127.0.0.1) with the given query.</summary>
    public async Task<HttpResponseMessage> RedirectAsync(Func<Uri, string> query)
    {
        var authorize = await Opened.WaitAsync(TimeSpan.FromSeconds(30));
        var redirect = new Uri(Param(authorize, "redirect_uri"));
        using var http = new HttpClient();
        return await http.GetAsync($"http://127.0.0.1:{redirect.Port}{redirect.AbsolutePath}?{query(authorize)}");
    }
}

/// <summary>
/// A clock whose timers fire at once, moving "now" forward by their due time: a poll loop that waits 5 s runs instantly
/// and the test reads back which waits were asked for.
/// </summary>
internal sealed class AutoAdvanceClock : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<TimeSpan> _waits = [];

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public IReadOnlyList<TimeSpan> Waits
    {
        get
        {
            lock (_gate) return [.. _waits];
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Timer(this, callback, state, dueTime);

    private void Fire(TimeSpan dueTime, TimerCallback callback, object? state)
    {
        if (dueTime == Timeout.InfiniteTimeSpan) return;
        lock (_gate)
        {
            _waits.Add(dueTime);
            _now += dueTime;
        }
        ThreadPool.QueueUserWorkItem(_ => callback(state));
    }

    private sealed class Timer : ITimer
    {
        private readonly AutoAdvanceClock _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;

        public Timer(AutoAdvanceClock clock, TimerCallback callback, object? state, TimeSpan dueTime)
        {
            (_clock, _callback, _state) = (clock, callback, state);
            _clock.Fire(dueTime, callback, state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _clock.Fire(dueTime, _callback, _state);
            return true;
        }

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
