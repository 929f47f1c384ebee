using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIChat;

/// <summary>
/// The decoder holds a parallel tool call back until the call before it has complete JSON arguments. Whether they are
/// complete is now tracked fragment by fragment; it must say exactly what parsing the whole buffer said.
/// </summary>
public class ToolArgumentsIncrementalTests
{
    public static TheoryData<string> Arguments =>
    [
        """{"city":"Paris"}""",
        """{}""",
        """ { "x" : true } """,
        """{"s":"a \"quoted\" {brace} [bracket] \\","n":[1,{"d":[2,3]}],"u":"é€ \u00e9","e":"\\\""}""",
        """{"a":{"b":{"c":{}}}}""",
        """{"a":}""",
        """{"a":1}}""",
        """{"a":1} x""",
        """[1,2]""",
        "\"text\" ",
        "{\"open\":\"never closed",
    ];

    [Theory]
    [MemberData(nameof(Arguments))]
    public void Completeness_after_every_character_matches_a_full_parse(string arguments)
    {
        var scanner = new ChatStreamDecoder.ObjectScanner();
        var whole = new StringBuilder();
        foreach (var c in arguments)
        {
            whole.Append(c);
            scanner.Feed(c.ToString(), whole);
            Assert.Equal(IsWholeObject(whole.ToString()), scanner.Complete);
        }
    }

    [Theory]
    [MemberData(nameof(Arguments))]
    public void Splitting_the_arguments_at_any_two_points_gives_the_events_of_one_chunk(string arguments)
    {
        var reference = Merged(Decode(arguments, [arguments]).Events);
        for (var p = 0; p <= arguments.Length; p++)
        {
            for (var q = p; q <= arguments.Length; q++)
            {
                string[] fragments = [arguments[..p], arguments[p..q], arguments[q..]];
                var (events, startedAfter) = Decode(arguments, fragments);
                // Text after a complete object (trailing spaces, garbage) that arrives once the next call started
                // goes out after that start, as it always did; everywhere else the split is invisible.
                var completeEarly = Enumerable.Range(1, fragments.Length - 1)
                    .Any(i => string.Concat(fragments.Take(i)) is var prefix && prefix.Length < arguments.Length && IsWholeObject(prefix));
                if (!completeEarly) Assert.Equal(reference, Merged(events));
                // The second call starts as soon as the first call's arguments are complete, and not before.
                var completeSoFar = false;
                for (var i = 0; i < fragments.Length; i++)
                {
                    var soFar = string.Concat(fragments.Take(i + 1));
                    completeSoFar |= IsWholeObject(soFar);
                    Assert.True(completeSoFar == startedAfter[i], $"split {p}/{q}, after fragment {i}: '{soFar}'");
                }
            }
        }
    }

    private static bool IsWholeObject(string text) => JsonText.TryParse(text) is JsonObject;

    /// <summary>
    /// Call 0 starts with the first fragment, call 1 (with <c>{}</c>) arrives next, then the other fragments of call 0.
    /// Returns the events and, per fragment of call 0, whether call 1 had started once it was decoded.
    /// </summary>
    private static (List<StreamEvent> Events, bool[] StartedAfter) Decode(string arguments, string[] fragments)
    {
        var decoder = OpenAIChatCodec.Instance.CreateStreamDecoder();
        var events = new List<StreamEvent>();
        var startedAfter = new bool[fragments.Length];
        void Feed(JsonObject call) => decoder.Decode(new(null, Chunk(call)), events);
        bool SecondStarted() => events.Any(e => e is ToolCallStarted { Index: 1 });

        Feed(Call(0, "call_0", "f", fragments[0]));
        Feed(Call(1, "call_1", "g", "{}"));
        startedAfter[0] = SecondStarted();
        for (var i = 1; i < fragments.Length; i++)
        {
            Feed(Call(0, null, null, fragments[i]));
            startedAfter[i] = SecondStarted();
        }
        decoder.Decode(new(null, """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"""), events);
        decoder.Decode(new(null, "[DONE]"), events);
        Assert.True(decoder.EndedCleanly);
        decoder.Complete(events);
        Assert.Equal(arguments, string.Concat(events.OfType<ToolCallArgumentsDelta>().Where(d => d.Index == 0).Select(d => d.Fragment)));
        return (events, startedAfter);
    }

    private static JsonObject Call(int index, string? id, string? name, string arguments)
    {
        var function = new JsonObject { ["arguments"] = arguments };
        if (name is not null) function["name"] = name;
        var call = new JsonObject { ["index"] = index, ["function"] = function };
        if (id is not null) call["id"] = id;
        return call;
    }

    private static string Chunk(JsonObject call) =>
        new JsonObject { ["id"] = "c1", ["model"] = "m", ["created"] = 1, ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(call) } }) }
            .ToJsonString();

    /// <summary>The events as text, consecutive argument fragments of one call joined (where a stream splits them is not observable).</summary>
    private static List<string> Merged(List<StreamEvent> events)
    {
        var merged = new List<string>();
        ToolCallArgumentsDelta? previous = null;
        foreach (var e in events)
        {
            if (e is ToolCallArgumentsDelta a && previous is not null && previous.Choice == a.Choice && previous.Index == a.Index)
                merged[^1] += a.Fragment;
            else merged.Add(ChatTestData.Describe(e));
            previous = e as ToolCallArgumentsDelta;
        }
        return merged;
    }
}
