using PluginProxy.Host.Server;

namespace PluginProxy.Tests.Host.Server;

public sealed class IdleTrimTests
{
    private long _allocated;
    private int _collections;

    private IdleTrim Create() => new(allocated: () => _allocated, collect: () => _collections++, startTimer: false);

    [Fact]
    public void Collects_once_when_quiet_after_a_burst()
    {
        using var trim = Create();
        _allocated += IdleTrim.BurstBytes; // the burst
        trim.Tick();
        Assert.Equal(0, _collections); // still busy during that period

        trim.Tick(); // nothing allocated since: quiet
        Assert.Equal(1, _collections);

        trim.Tick();
        trim.Tick();
        Assert.Equal(1, trim.Trims); // one collection per quiet period
    }

    [Fact]
    public void Never_collects_while_allocating()
    {
        using var trim = Create();
        for (var i = 0; i < 20; i++)
        {
            _allocated += IdleTrim.BurstBytes;
            trim.Tick();
        }
        Assert.Equal(0, _collections);
    }

    [Fact]
    public void A_quiet_process_without_a_burst_is_left_alone()
    {
        using var trim = Create();
        for (var i = 0; i < 20; i++)
        {
            _allocated += IdleTrim.QuietBytes / 2; // health probes, timers
            trim.Tick();
        }
        Assert.Equal(0, _collections);
    }

    [Fact]
    public void The_next_burst_earns_the_next_collection()
    {
        using var trim = Create();
        _allocated += IdleTrim.BurstBytes;
        trim.Tick();
        trim.Tick();
        _allocated += IdleTrim.BurstBytes - 1;
        trim.Tick();
        trim.Tick();
        Assert.Equal(1, _collections); // short of a burst since the last trim
        _allocated += IdleTrim.QuietBytes;
        trim.Tick();
        trim.Tick();
        Assert.Equal(2, _collections);
    }
}
