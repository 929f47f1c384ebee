using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Bench.Formats;
using PluginProxy.Formats;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Bench.Proxying;

/// <summary>
/// The usage of a non-streaming passthrough answer (the fake upstream's JSON answer per dialect): <c>WholeDom</c>
/// (baseline) is what the observer did before 2026-12-05 (the whole answer into a DOM and the codec's DecodeResponse),
/// <c>Observer</c> is <see cref="PassthroughUsage"/> as shipped (a reader scan, only the usage object decoded).
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

    [Benchmark(Baseline = true)]
    public Usage? WholeDom() => _codec.DecodeResponse(JsonNode.Parse(_answer.AsSpan())!).Usage;

    [Benchmark]
    public Usage? Observer()
    {
        var observer = new PassthroughUsage(_codec, sse: false);
        observer.Observe(_answer);
        observer.Complete();
        return observer.Usage;
    }
}
