using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Bench.Formats;

/// <summary>
/// Each codec's request path (client bytes -> document -> canonical, canonical -> upstream DOM -> bytes) for the harness's
/// small and 22 KB agent bodies and a 1 MB image, and its stream paths: decoding the fake upstream's SSE file (64
/// deltas) and encoding the same 64-delta canonical stream for a client. Allocations are the figure to read.
/// </summary>
[MemoryDiagnoser]
public class CodecRequestBench
{
    private byte[] _body = null!;
    private ChatRequest _canonical = null!;
    private IDialectCodec _codec = null!;
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);

    [Params("chat", "messages", "responses", "gemini")]
    public string Dialect { get; set; } = "chat";

    [Params("small", "large", "image")]
    public string Body { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        _body = Fixture.Request(Dialect, Body);
        _codec = Codecs.For(DialectOf(Dialect));
        _canonical = Decode();
    }

    internal static PluginProxy.Abstractions.Canonical.Dialect DialectOf(string name) => name switch
    {
        "chat" => PluginProxy.Abstractions.Canonical.Dialect.OpenAIChat,
        "messages" => PluginProxy.Abstractions.Canonical.Dialect.Anthropic,
        "responses" => PluginProxy.Abstractions.Canonical.Dialect.OpenAIResponses,
        _ => PluginProxy.Abstractions.Canonical.Dialect.Gemini,
    };

    /// <summary>
    /// Client side: the body as the server reads it for translation (a document disposed right after decoding, as
    /// RequestReader's pooled one is).
    /// </summary>
    [Benchmark]
    public ChatRequest Decode()
    {
        using var document = JsonDocument.Parse(_body);
        return _codec.DecodeRequest(document.RootElement);
    }

    /// <summary>Upstream side: the canonical request in this dialect, serialized.</summary>
    [Benchmark]
    public int Encode()
    {
        _output.ResetWrittenCount();
        JsonText.Write(_output, _codec.EncodeRequest(_canonical, "fake-model"));
        return _output.WrittenCount;
    }

    /// <summary>Passthrough: the checks the reader makes and the model rewrite, no DOM.</summary>
    [Benchmark(Baseline = true)]
    public int PassthroughRewrite()
    {
        var rewritten = ModelRewriter.Rewrite(_body, "upstream-model", out var rented, ArrayPool<byte>.Shared);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        return rewritten.Length;
    }
}

[MemoryDiagnoser]
public class CodecStreamBench
{
    private byte[] _sse = null!;
    private IDialectCodec _codec = null!;
    private readonly List<StreamEvent> _events = [];
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private static readonly ChatRequest Request = new() { Model = "fake-model", Stream = true };

    [Params("chat", "messages", "responses", "gemini")]
    public string Dialect { get; set; } = "chat";

    [GlobalSetup]
    public void Setup()
    {
        _sse = Fixture.Bytes($"upstream.{Dialect}.sse");
        _codec = Codecs.For(CodecRequestBench.DialectOf(Dialect));
        _events.Clear();
        _events.AddRange(Canonical64());
    }

    /// <summary>The upstream's 64-delta SSE body through the SSE reader and this dialect's stream decoder.</summary>
    [Benchmark]
    public async Task<int> DecodeStream()
    {
        var decoder = _codec.CreateStreamDecoder();
        var events = new List<StreamEvent>();
        var count = 0;
        await foreach (var sse in SseReader.ReadAsync(new MemoryStream(_sse, writable: false)))
        {
            events.Clear();
            decoder.Decode(sse, events);
            count += events.Count;
        }
        decoder.Complete(events);
        return count;
    }

    /// <summary>A canonical 64-delta stream encoded for a client of this dialect.</summary>
    [Benchmark]
    public int EncodeStream()
    {
        _output.ResetWrittenCount();
        var encoder = _codec.CreateStreamEncoder(Request);
        foreach (var e in _events) encoder.Encode(e, _output);
        return _output.WrittenCount;
    }

    private static IEnumerable<StreamEvent> Canonical64()
    {
        yield return new ResponseStarted("resp_1", "fake-model", 1_700_000_000);
        for (var i = 0; i < 64; i++) yield return new TextDelta(0, $"token{i} ");
        yield return new ChoiceFinished(0, FinishReason.Stop);
        yield return new UsageReported(new Usage { InputTokens = 12, OutputTokens = 64 });
        yield return ResponseCompleted.Instance;
    }
}
