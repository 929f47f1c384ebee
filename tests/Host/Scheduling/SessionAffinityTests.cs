using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class SessionAffinityTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly ManualClock _clock = new();

    private static ModelRoute Route(string id, int priority = 0) => new(new CredentialRecord { Id = id, Type = "t", Provider = "t", Label = id, Priority = priority }, "m");

    private Scheduler Create(string ttl = "1h") =>
        new(new ConfigStore(ConfigLoader.Defaults() with
        {
            Config = new ProxyConfig { Routing = new RoutingConfig { SessionAffinity = true, SessionAffinityTtl = ttl } },
        }), _clock);

    /// <summary>One request: the first pick, served.</summary>
    private static string Serve(Scheduler scheduler, ImmutableArray<ModelRoute> routes, string? session)
    {
        var selection = scheduler.Begin("m", routes, 1, session: session);
        Assert.True(selection.TryNext(out var route));
        selection.Succeeded(route);
        return route.Credential.Id;
    }

    [Fact]
    public void A_conversation_stays_on_its_first_credential_while_round_robin_moves_others_along()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        var first = Serve(scheduler, routes, "conv-1");
        var second = Serve(scheduler, routes, "conv-2");
        Assert.NotEqual(first, second);
        for (var turn = 0; turn < 5; turn++)
        {
            Assert.Equal(first, Serve(scheduler, routes, "conv-1"));
            Assert.Equal(second, Serve(scheduler, routes, "conv-2"));
            Serve(scheduler, routes, null); // requests without a session keep rotating around them
        }
        Assert.Equal(2, scheduler.Affinity.View(Hour).Count);
        Assert.Equal(1, scheduler.Affinity.View(Hour).PerCredential[first]);
    }

    [Fact]
    public void A_binding_outranks_priority_but_not_a_cooldown_and_the_failover_rebinds()
    {
        var scheduler = Create();
        ImmutableArray<ModelRoute> lowOnly = [Route("low")];
        Assert.Equal("low", Serve(scheduler, lowOnly, "s")); // bound while the high-priority one was not there
        ImmutableArray<ModelRoute> both = [Route("low"), Route("high", priority: 5)];
        Assert.Equal("low", Serve(scheduler, both, "s"));

        var selection = scheduler.Begin("m", both, 2, session: "s");
        Assert.True(selection.TryNext(out var bound));
        Assert.Equal("low", bound.Credential.Id);
        selection.Failed(bound, new UpstreamException(FailureKind.Quota, 429, "quota", retryAfter: TimeSpan.FromMinutes(5)));
        Assert.True(selection.TryNext(out var next));
        Assert.Equal("high", next.Credential.Id);
        selection.Succeeded(next);

        // Rebound: "low" recovered, yet the conversation stays where its cache now is.
        _clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal("high", Serve(scheduler, both, "s"));
        Assert.Equal(new Dictionary<string, int> { ["high"] = 1 }, scheduler.Affinity.View(Hour).PerCredential);
    }

    [Fact]
    public void Bindings_expire_after_the_ttl_without_use_and_use_renews_them()
    {
        var scheduler = Create("30m");
        ImmutableArray<ModelRoute> routes = [Route("a"), Route("b")];
        var bound = Serve(scheduler, routes, "s");
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(bound, Serve(scheduler, routes, "s")); // renewed here
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(bound, Serve(scheduler, routes, "s"));
        Assert.Equal(1, scheduler.Affinity.View(TimeSpan.FromMinutes(30)).Count);

        _clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(0, scheduler.Affinity.View(TimeSpan.FromMinutes(30)).Count);
        Assert.Null(scheduler.Affinity.BoundTo("m", "s", TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void Memory_stays_bounded_with_100000_sessions_and_the_least_recently_used_go_first()
    {
        var affinity = new SessionAffinity(_clock, capacity: 10_000);
        affinity.Bind("m", "keep", "a", Hour);
        for (var i = 0; i < 100_000; i++)
        {
            affinity.Bind("m", $"session-{i}", i % 2 == 0 ? "a" : "b", Hour);
            if (i % 5_000 == 0) Assert.Equal("a", affinity.BoundTo("m", "keep", Hour)); // used now and then: stays
        }
        var view = affinity.View(Hour);
        Assert.Equal(10_000, view.Count);
        Assert.Equal(10_000, view.PerCredential.Values.Sum());
        Assert.Equal("a", affinity.BoundTo("m", "keep", Hour));
        Assert.Null(affinity.BoundTo("m", "session-0", Hour));
        Assert.Equal("b", affinity.BoundTo("m", "session-99999", Hour));
    }

    [Fact]
    public void The_same_session_on_another_model_is_another_binding()
    {
        var affinity = new SessionAffinity(_clock);
        affinity.Bind("m1", "s", "a", Hour);
        affinity.Bind("m2", "s", "b", Hour);
        Assert.Equal("a", affinity.BoundTo("m1", "s", Hour));
        Assert.Equal("b", affinity.BoundTo("m2", "s", Hour));
    }

    private static string? Key(string body, params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary[name] = value;
        return SessionKeys.From(dictionary, Encoding.UTF8.GetBytes(body));
    }

    [Fact]
    public void Session_ids_come_from_what_each_client_sends()
    {
        const string body = """{"model":"m","prompt_cache_key":"pck-1","messages":[{"role":"user","content":"hi"}]}""";
        Assert.Equal("h:cc-session", Key(body, ("X-Claude-Code-Session-Id", "cc-session"), ("session_id", "other")));
        Assert.Equal("h:codex-session", Key(body, ("session_id", "codex-session")));
        Assert.Equal("k:pck-1", Key(body));
        Assert.Equal("c:conv_1", Key("""{"conversation":{"id":"conv_1"},"input":"hi"}"""));
        Assert.Equal("c:conv_2", Key("""{"input":"hi","conversation":"conv_2"}"""));
        Assert.Equal("u:4f1c-9", Key("""{"metadata":{"user_id":"user_ab12_account_77_session_4f1c-9"},"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal("u:s-json", Key("""{"metadata":{"user_id":"{\"device_id\":\"d\",\"session_id\":\"s-json\"}"},"messages":[]}"""));
        Assert.Equal("r:resp_1", Key("""{"previous_response_id":"resp_1","input":[{"role":"user","content":"next"}]}"""));
        Assert.Null(Key("""{"model":"m"}"""));
        Assert.Null(Key("not json"));
    }

    [Fact]
    public void Without_ids_the_first_user_message_identifies_the_conversation_whatever_markers_move()
    {
        var turn1 = Key("""{"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"plan a trip","cache_control":{"type":"ephemeral"}}]}]}""");
        var turn2 = Key("""{"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"plan a trip"}]},{"role":"assistant","content":"where?"},{"role":"user","content":[{"type":"text","text":"Rome","cache_control":{"type":"ephemeral"}}]}]}""");
        var other = Key("""{"messages":[{"role":"user","content":"write a poem"}]}""");
        var chat = Key("""{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"plan a trip"}]}""");
        var gemini = Key("""{"contents":[{"parts":[{"text":"plan a trip"}]}]}""");
        Assert.StartsWith("m:", turn1);
        Assert.Equal(turn1, turn2);
        Assert.NotEqual(turn1, other);
        Assert.Equal(turn1, chat); // the system message is not the opening
        Assert.Equal(turn1, gemini);
    }
}
