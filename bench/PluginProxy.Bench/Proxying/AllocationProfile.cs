using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace PluginProxy.Bench.Proxying;

/// <summary>
/// Which types a request allocates: runs one <see cref="EndToEndBench"/> case many times with the runtime's sampled
/// allocation events (one per ~100 KB allocated) and prints the types by estimated bytes per request, for the proxy case
/// and for <c>Direct</c> (client and fake upstream only), so the difference is the proxy's.
/// <code>dotnet run -c Release --project bench/PluginProxy.Bench -- alloc ChatPassthrough [small|large] [requests]</code>
/// </summary>
internal static class AllocationProfile
{
    public static async Task RunAsync(string[] args)
    {
        var name = args.Length > 1 ? args[1] : "ChatPassthrough";
        var bench = new EndToEndBench { Body = args.Length > 2 ? args[2] : "small" };
        var requests = args.Length > 3 ? int.Parse(args[3]) : 20_000;
        bench.Setup();
        try
        {
            var method = typeof(EndToEndBench).GetMethod(name) ?? throw new ArgumentException($"no benchmark {name}");
            Func<Task<int>> run = () => (Task<int>)method.Invoke(bench, null)!;
            Func<Task<int>> direct = bench.Direct;
            for (var i = 0; i < 2_000; i++) { await run(); await direct(); } // warm up (tiering)
            var proxy = await MeasureAsync(run, requests);
            var baseline = await MeasureAsync(direct, requests);
            var output = Console.Error; // the access log owns standard output
            output.WriteLine($"{name} ({bench.Body}), {requests} requests: {proxy.Total / requests:N0} B/request sampled, Direct {baseline.Total / requests:N0}");
            output.WriteLine($"{"type",-100} {"proxy",10} {"direct",10}");
            foreach (var (type, bytes) in proxy.ByType.OrderByDescending(p => p.Value).Take(60))
                output.WriteLine($"{Trim(type),-100} {bytes / requests,10:N0} {baseline.ByType.GetValueOrDefault(type) / requests,10:N0}");
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static string Trim(string type) => type.Length <= 100 ? type : type[..97] + "...";

    private static async Task<(long Total, Dictionary<string, long> ByType)> MeasureAsync(Func<Task<int>> run, int requests)
    {
        using var listener = new AllocationListener();
        for (var i = 0; i < requests; i++) await run();
        listener.Stop();
        return (listener.ByType.Values.Sum(), new Dictionary<string, long>(listener.ByType));
    }

    private sealed class AllocationListener : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private volatile bool _stopped;
        public readonly ConcurrentDictionary<string, long> ByType = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (_stopped || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
            var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100 * 1024;
            ByType.AddOrUpdate(type, amount, (_, v) => v + amount);
        }

        public void Stop() => _stopped = true;
    }
}
