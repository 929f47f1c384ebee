using BenchmarkDotNet.Running;
using PluginProxy.Bench.Scheduling;

// Every benchmark class in this assembly; pick with --filter.
BenchmarkSwitcher.FromAssembly(typeof(SchedulerBench).Assembly).Run(args);
