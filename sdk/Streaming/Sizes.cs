namespace PluginProxy.Sdk.Streaming;

internal static class Sizes
{
    /// <summary>A byte count as people read it (<c>32 MiB</c>, <c>64 KiB</c>, <c>100 bytes</c>).</summary>
    public static string Describe(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB"
        : bytes % 1024 == 0 ? $"{bytes / 1024} KiB"
        : $"{bytes} bytes";
}
