using BenchmarkDotNet.Running;
using PluginProxy.Bench.Scheduling;

// Every benchmark class in this assembly; pick with --filter.
if (args.Length > 0 && args[0] == "alloc")
{
    await PluginProxy.Bench.Proxying.AllocationProfile.RunAsync(args);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(SchedulerBench).Assembly).Run(args);
