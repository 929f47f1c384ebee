using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>
/// Every client dialect against every upstream dialect (the 12 translating pairs and the 4 identities): a client body
/// decoded by the client's codec and encoded for the upstream, and upstream answers (JSON and SSE) decoded by the
/// upstream's codec and encoded for the client. What arrives is read back by test-side readers and compared as facts.
/// </summary>
public sealed class CrossDialectTests
{
    private static readonly Dialect[] Dialects = [Dialect.OpenAIChat, Dialect.OpenAIResponses, Dialect.Anthropic, Dialect.Gemini];

    public static TheoryData<Dialect, Dialect, RequestScenario> RequestCases()
    {
        var cases = new TheoryData<Dialect, Dialect, RequestScenario>();
        foreach (var client in Dialects)
            foreach (var upstream in Dialects)
                foreach (var scenario in Enum.GetValues<RequestScenario>())
                    cases.Add(client, upstream, scenario);
        return cases;
    }

    public static TheoryData<Dialect, RequestScenario> IdentityCases()
    {
        var cases = new TheoryData<Dialect, RequestScenario>();
        foreach (var dialect in Dialects)
            foreach (var scenario in Enum.GetValues<RequestScenario>())
                cases.Add(dialect, scenario);
        return cases;
    }

    public static TheoryData<Dialect, Dialect, AnswerScenario, bool> AnswerCases()
    {
        var cases = new TheoryData<Dialect, Dialect, AnswerScenario, bool>();
        foreach (var upstream in Dialects)
            foreach (var client in Dialects)
                foreach (var scenario in Enum.GetValues<AnswerScenario>())
                    foreach (var streaming in (bool[])[false, true])
                        cases.Add(upstream, client, scenario, streaming);
        return cases;
    }

    [Theory]
    [MemberData(nameof(RequestCases))]
    public void Client_request_reaches_the_upstream(Dialect client, Dialect upstream, RequestScenario scenario)
    {
        var from = DialectSide.For(client);
        var to = DialectSide.For(upstream);
        var request = from.Codec.DecodeRequest(Wire.Parse(from.ClientRequest(scenario)));

        var body = to.Codec.EncodeRequest(request, "upstream-model");

        var facts = to.ReadRequest(body);
        Assert.Equal(DialectSide.ExpectedRequest(scenario, client, upstream), facts.Lines);
        if (from.ClientCallIds(scenario) is { } ids) Assert.Equal(ids, facts.RawIds);
        // Gemini takes the model from the URL.
        Assert.Equal(upstream == Dialect.Gemini ? null : "upstream-model", Wire.Str(body["model"]));
        AssertSignaturesStayHome(from, client, upstream, JsonText.Serialize(body));
    }

    /// <summary>Client and upstream of one dialect: the exact body goes upstream, up to the codec's documented normalisations.</summary>
    [Theory]
    [MemberData(nameof(IdentityCases))]
    public void Same_dialect_request_is_forwarded_as_sent(Dialect dialect, RequestScenario scenario)
    {
        var side = DialectSide.For(dialect);
        var body = side.Codec.EncodeRequest(side.Codec.DecodeRequest(Wire.Parse(side.ClientRequest(scenario))), "client-model");
        JsonAssert.Equal(side.IdentityRequest(scenario), body);
    }

    [Theory]
    [MemberData(nameof(AnswerCases))]
    public void Upstream_answer_reaches_the_client(Dialect upstream, Dialect client, AnswerScenario scenario, bool streaming)
    {
        var from = DialectSide.For(upstream);
        var to = DialectSide.For(client);
        var request = to.Codec.DecodeRequest(Wire.Parse(to.AnswerRequest));

        string wire;
        AnswerFacts facts;
        if (streaming)
        {
            var events = StreamHarness.Decode(from.Codec.CreateStreamDecoder(), from.UpstreamStream(scenario));
            wire = StreamHarness.Encode(to.Codec.CreateStreamEncoder(request), events);
            facts = to.ReadStream(wire);
        }
        else
        {
            var body = to.Codec.EncodeResponse(from.Codec.DecodeResponse(JsonNode.Parse(from.UpstreamAnswer(scenario))!), request);
            wire = JsonText.Serialize(body);
            facts = to.ReadAnswer(body);
        }

        var (content, finish) = DialectSide.ExpectedAnswer(scenario, client, upstream);
        Assert.Equal(content, facts.Content.Lines);
        Assert.Equal(finish, facts.Finish);
        if (scenario == AnswerScenario.ToolCalls && from.UpstreamCallIds is { } ids) Assert.Equal(ids, facts.Content.RawIds);
        if (scenario == AnswerScenario.ToolCalls) Assert.All(facts.Content.RawIds, id => Assert.NotEqual("", id));

        var expectedUsage = DialectSide.ExpectedUsage(upstream);
        var usage = facts.Usage;
        Assert.NotNull(usage);
        Assert.Equal((expectedUsage.Input, expectedUsage.Cached, expectedUsage.Output), (usage.Input, usage.Cached, usage.Output));
        // Null where the client's dialect has no field for the number (Anthropic: reasoning and total).
        if (usage.Reasoning is not null) Assert.Equal(expectedUsage.Reasoning, usage.Reasoning);
        if (usage.Total is not null) Assert.Equal(expectedUsage.Total, usage.Total);
        Assert.Equal(client == Dialect.Anthropic, usage.Total is null);

        if (scenario == AnswerScenario.Grounding) JsonAssert.Equal(DialectSide.Grounding, facts.Grounding);
        else Assert.Null(facts.Grounding);
        AssertSignaturesStayHome(from, upstream, client, wire);
    }

    /// <summary>A signature is only valid for the dialect that made it: it must not reach any other.</summary>
    private static void AssertSignaturesStayHome(DialectSide source, Dialect sourceDialect, Dialect target, string wire)
    {
        if (sourceDialect == target) return;
        foreach (var signature in source.Signatures) Assert.DoesNotContain(signature, wire);
    }
}
