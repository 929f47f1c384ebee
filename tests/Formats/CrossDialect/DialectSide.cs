using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>Conversations a client sends, each written once per dialect.</summary>
public enum RequestScenario
{
    /// <summary>System prompt, a tool, two rounds of call and result, the answer and a follow-up question.</summary>
    ToolLoop,
    /// <summary>Two calls in one assistant turn and both results.</summary>
    ParallelToolCalls,
    /// <summary>Text and a base64 PNG in one user turn.</summary>
    Image,
    /// <summary>An earlier assistant turn with thinking signed by the client's dialect.</summary>
    Thinking,
}

/// <summary>Answers an upstream gives, each written once per dialect as a JSON body and as an SSE transcript.</summary>
public enum AnswerScenario
{
    /// <summary>Thinking, text, then two parallel calls; finish tool_calls.</summary>
    ToolCalls,
    /// <summary>Thinking signed by the upstream's dialect, then text; finish stop.</summary>
    Thinking,
    /// <summary>Text cut off by the token limit; finish length.</summary>
    Length,
    /// <summary>
    /// Text with Gemini grounding metadata: Gemini's own, or the grounding_metadata a Gemini-fed server of another
    /// dialect (another PluginProxy) puts where PluginProxy does.
    /// </summary>
    Grounding,
}

/// <summary>
/// One dialect in the matrix: its fixtures (client requests, upstream answers) and its readers, which turn wire JSON of
/// this dialect into <see cref="Facts"/> and check the SSE event sequence the dialect's clients expect.
/// </summary>
internal abstract class DialectSide
{
    public abstract Dialect Dialect { get; }

    public IDialectCodec Codec => Codecs.For(Dialect);

    /// <summary>The signature on the thinking of this dialect's fixtures (requests and answers).</summary>
    public abstract string ThinkingSignature { get; }

    /// <summary>Every signature string in this dialect's fixtures; none may reach another dialect.</summary>
    public virtual IReadOnlyList<string> Signatures => [ThinkingSignature];

    // ---- fixtures ----

    /// <summary>The client body for a scenario.</summary>
    public abstract string ClientRequest(RequestScenario scenario);

    /// <summary>The tool call ids the client body of a scenario carries (in order), or null when it has none.</summary>
    public abstract IReadOnlyList<string>? ClientCallIds(RequestScenario scenario);

    /// <summary>
    /// What the codec sends upstream for its own client body (model unchanged): the body itself, after the
    /// normalisations the codec documents.
    /// </summary>
    public virtual JsonObject IdentityRequest(RequestScenario scenario) => Wire.Parse(ClientRequest(scenario));

    /// <summary>The client request that answers are encoded for: it asks for usage in streams and for thought text.</summary>
    public abstract string AnswerRequest { get; }

    /// <summary>The upstream's non-streaming body.</summary>
    public abstract string UpstreamAnswer(AnswerScenario scenario);

    /// <summary>The upstream's SSE transcript.</summary>
    public abstract string UpstreamStream(AnswerScenario scenario);

    /// <summary>The tool call ids of the upstream's ToolCalls answer, or null when the dialect sends none (Gemini).</summary>
    public abstract IReadOnlyList<string>? UpstreamCallIds { get; }

    // ---- readers ----

    /// <summary>Facts of an upstream request body in this dialect (system, declared tools, then turns), after checking its shape.</summary>
    public abstract Facts ReadRequest(JsonObject body);

    /// <summary>What a client reads from a non-streaming answer in this dialect.</summary>
    public abstract AnswerFacts ReadAnswer(JsonObject body);

    /// <summary>What a client reads from an SSE answer, after asserting the event sequence is this dialect's exact one.</summary>
    public abstract AnswerFacts ReadStream(string sse);

    // ---- the matrix ----

    public static readonly DialectSide[] All = [new OpenAIChatSide(), new OpenAIResponsesSide(), new AnthropicSide(), new GeminiSide()];

    public static DialectSide For(Dialect dialect) => All.Single(s => s.Dialect == dialect);

    /// <summary>The facts expected upstream when a client of <paramref name="client"/> sends a scenario to <paramref name="upstream"/>.</summary>
    public static List<string> ExpectedRequest(RequestScenario scenario, Dialect client, Dialect upstream)
    {
        const string Schema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";
        const string Declaration = "declare: get_weather Current weather " + Schema;
        // Gemini thinking models reject a function-call turn whose first call has no signature: the Gemini client's own
        // signatures go back, calls from elsewhere (and the Gemini client's unsigned parallel calls) get the sentinel.
        string TurnSignature(string geminiSignature) => upstream != Dialect.Gemini ? ""
            : client == Dialect.Gemini && scenario == RequestScenario.ToolLoop ? " sig=" + geminiSignature
            : " sig=skip_thought_signature_validator";
        switch (scenario)
        {
            case RequestScenario.ToolLoop:
                return
                [
                    "system: You are terse.",
                    Declaration,
                    "user: text Weather in Paris?",
                    "assistant: text Checking.",
                    """assistant: call #1 get_weather {"city":"Paris"}""" + TurnSignature(GeminiSide.CallSignature),
                    "tool: result #1 Sunny, 21°C",
                    "assistant: text Comparing with Lyon.",
                    """assistant: call #2 get_weather {"city":"Lyon"}""" + TurnSignature(GeminiSide.SecondCallSignature),
                    "tool: result #2 Cloudy, 17°C",
                    "assistant: text Sunny in Paris, cloudy in Lyon.",
                    "user: text And tomorrow?",
                ];
            case RequestScenario.ParallelToolCalls:
                return
                [
                    Declaration,
                    "user: text Weather in Paris and Rome?",
                    """assistant: call #1 get_weather {"city":"Paris"}""" + TurnSignature(""),
                    """assistant: call #2 get_weather {"city":"Rome"}""",
                    "tool: result #1 Sunny, 21°C",
                    "tool: result #2 Rainy, 14°C",
                ];
            case RequestScenario.Image:
                return ["user: text What is in this picture?", "user: image image/png iVBORw0KGgo="];
            default:
                List<string> facts = ["user: text What is 2+2?"];
                // A signature only goes back to the dialect that made it; Chat alone also takes unsigned reasoning text.
                if (client == upstream) facts.Add("assistant: thinking Simple arithmetic. sig=" + For(client).ThinkingSignature);
                else if (upstream == Dialect.OpenAIChat) facts.Add("assistant: thinking Simple arithmetic.");
                facts.AddRange(["assistant: text 4", "user: text Times 3?"]);
                return facts;
        }
    }

    /// <summary>The content lines and finish reason a client of <paramref name="client"/> should read from an upstream answer.</summary>
    public static (List<string> Content, string Finish) ExpectedAnswer(AnswerScenario scenario, Dialect client, Dialect upstream) => scenario switch
    {
        AnswerScenario.ToolCalls =>
        ([
            // Gemini signs the first call rather than the thought before it.
            "thinking I need both cities." + (client == upstream && upstream != Dialect.Gemini ? " sig=" + For(upstream).ThinkingSignature : ""),
            "text Checking both.",
            """call #1 get_weather {"city":"Paris"}""" + (client == Dialect.Gemini && upstream == Dialect.Gemini ? " sig=" + GeminiSide.CallSignature : ""),
            """call #2 get_weather {"city":"Rome"}""",
        ], "tool_calls"),
        AnswerScenario.Thinking =>
        ([
            "thinking Let me think." + (client == upstream ? " sig=" + For(upstream).ThinkingSignature : ""),
            "text The answer is 4.",
        ], "stop"),
        AnswerScenario.Length => (["text The answer is"], "length"),
        _ => (["text Paris is sunny."], "stop"),
    };

    /// <summary>
    /// Every upstream fixture reports 100 input tokens (40 cached) and 50 output tokens (20 of them reasoning), total 150;
    /// Anthropic has no reasoning count, so through it the count is 0.
    /// </summary>
    public static UsageFacts ExpectedUsage(Dialect upstream) => new(100, 40, 50, upstream == Dialect.Anthropic ? 0 : 20, 150);

    /// <summary>The grounding of the Gemini Grounding answer.</summary>
    public const string Grounding = """
        {"webSearchQueries":["paris weather"],"searchEntryPoint":{"renderedContent":"<div>paris weather</div>"},
         "groundingChunks":[{"web":{"uri":"https://example.com/paris","title":"example.com"}}],
         "groundingSupports":[{"segment":{"startIndex":0,"endIndex":15,"text":"Paris is sunny."},"groundingChunkIndices":[0],"confidenceScores":[0.9]}]}
        """;
}
