using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Config;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Tests.Host.UsageStatistics;

/// <summary>Recorders on their own temporary database, and records to feed them.</summary>
internal static class UsageTestKit
{
    public static string TempDir() => Directory.CreateTempSubdirectory("pluginproxy-usage-").FullName;

    /// <param name="start">False leaves the background loop off: nothing drains the queue, as when the writer stalls.</param>
    public static UsageRecorder Recorder(string dir, UsageLimits? limits = null, string yaml = "", bool start = true)
    {
        var path = Path.Combine(dir, "config.yaml");
        File.WriteAllText(path, yaml);
        var recorder = new UsageRecorder(new ConfigStore(ConfigLoader.LoadFile(path)), TimeProvider.System, NullLogger<UsageRecorder>.Instance, limits);
        if (start) recorder.Start();
        return recorder;
    }

    public static UsageRecord Record(DateTimeOffset at, string key = "key-00000001", string model = "m", string provider = "p", string credential = "c1",
        bool failed = false, long input = 10, long output = 5, long reasoning = 2, long cached = 3, long latency = 40) =>
        new(at, new UsageDimensions(key, provider, credential, credential + "@example.com", model), failed, latency,
            new UsageTokens(input, output, reasoning, cached, input + output));

    public static JsonObject Snapshot(UsageRecorder recorder) => JsonNode.Parse(recorder.SnapshotJson())!.AsObject();
}
