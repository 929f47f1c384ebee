namespace PluginProxy.Host.Server;

/// <summary>
/// Hands the GC heap's free memory back to the OS once the server goes quiet after a burst: a load leaves the GC's
/// regions committed (tens of MB) long after the requests are gone. A timer looks every <see cref="Period"/> at how much
/// the process allocated since the last look (a counter the GC keeps anyway: nothing is added to the request path);
/// when that is almost nothing and at least <see cref="BurstBytes"/> were allocated since the last trim, it runs one
/// aggressive compacting collection. At most one collection per quiet period, none under load.
/// </summary>
internal sealed class IdleTrim : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Allocated in one period below which the process counts as quiet (a health probe, a timer or two).</summary>
    public const long QuietBytes = 256 * 1024;

    /// <summary>Allocated since the last trim before another is worth a full collection.</summary>
    public const long BurstBytes = 64L * 1024 * 1024;

    private readonly Func<long> _allocated;
    private readonly Action _collect;
    private readonly ITimer? _timer;
    private long _lastTick;
    private long _lastTrim;
    private int _busy;

    /// <summary>Starts the timer on <paramref name="clock"/>; <paramref name="allocated"/> and <paramref name="collect"/> are for tests.</summary>
    public IdleTrim(TimeProvider? clock = null, Func<long>? allocated = null, Action? collect = null, bool startTimer = true)
    {
        _allocated = allocated ?? (() => GC.GetTotalAllocatedBytes(precise: false));
        _collect = collect ?? Collect;
        _lastTick = _lastTrim = _allocated();
        if (startTimer) _timer = (clock ?? TimeProvider.System).CreateTimer(_ => Tick(), null, Period, Period);
    }

    /// <summary>The number of collections this instance has run (for tests and diagnostics).</summary>
    public int Trims { get; private set; }

    /// <summary>
    /// One compacting collection that returns the GC's free regions to the OS, then the same for the C heap (glibc keeps
    /// freed blocks of its per-thread arenas mapped: ~5 MB after a load, bench/README.md). Used once after start-up too.
    /// </summary>
    public static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc (musl has no malloc_trim): nothing to hand back this way
        }
    }

    // "libc" is the runtime's name for the platform C library on Linux (libc.so.6 with glibc).
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    /// <summary>One look (the timer's callback).</summary>
    public void Tick()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1) return; // a slow collection must not overlap the next tick
        try
        {
            var now = _allocated();
            var quiet = now - _lastTick < QuietBytes;
            _lastTick = now;
            if (!quiet || now - _lastTrim < BurstBytes) return;
            _collect();
            Trims++;
            _lastTrim = _lastTick = _allocated();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose() => _timer?.Dispose();
}
