using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Bench.Formats;
using PluginProxy.Formats;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Bench.Proxying;

/// <summary>
/// The usage of a non-streaming passthrough answer (the fake upstream's JSON answer per dialect): <c>WholeAnswer</c>
/// (baseline) decodes the whole answer as a translated request does (the codec's DecodeResponse on a pooled document;
/// until 2026-12-05 the observer did that through a DOM), <c>Observer</c> is <see cref="PassthroughUsage"/> as shipped
/// (a reader scan, only the usage object decoded).
/// </summary>
[MemoryDiagnoser]
public class PassthroughUsageBench
{
    private byte[] _answer = null!;
    private IDialectCodec _codec = null!;

    [Params("chat", "messages", "responses", "gemini")]
    public string Dialect { get; set; } = "chat";

    [GlobalSetup]
    public void Setup()
    {
        _answer = Fixture.Bytes($"upstream.{Dialect}.json");
        _codec = Codecs.For(CodecRequestBench.DialectOf(Dialect));
    }

    /// <summary>The whole answer decoded as a translated request decodes it (a pooled document read in place).</summary>
    [Benchmark(Baseline = true)]
    public Usage? WholeAnswer()
    {
        using var document = JsonDocument.Parse(_answer);
        return _codec.DecodeResponse(document.RootElement).Usage;
    }

    [Benchmark]
    public Usage? Observer()
    {
        var observer = new PassthroughUsage(_codec, sse: false);
        observer.Observe(_answer);
        observer.Complete();
        return observer.Usage;
    }
}
