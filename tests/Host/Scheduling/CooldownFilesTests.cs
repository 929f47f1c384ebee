using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Scheduling;

public sealed class CooldownFilesTests
{
    private readonly ManualClock _clock = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("cds-").FullName;

    private CooldownFiles Files(CooldownBook book, bool enabled = true) => new(book, _dir, () => enabled, _clock, NullLogger.Instance);

    [Fact]
    public async Task A_cooldown_survives_a_restart_and_still_ends_on_time()
    {
        var before = new CooldownBook();
        var files = Files(before);
        var until = _clock.GetUtcNow() + TimeSpan.FromMinutes(10);
        before.Set("claude-a@example.com.json", "claude-m", new Cooldown(until, FailureKind.Quota, 429, 2));
        before.Set("claude:apikey:0123456789ab", CooldownBook.AnyModel, new Cooldown(_clock.GetUtcNow() + TimeSpan.FromMinutes(30), FailureKind.AuthRevoked, 401, 0));
        await files.WhenFlushedAsync();
        Assert.True(File.Exists(Path.Combine(_dir, "claude-a_example.com.cds")));
        Assert.True(File.Exists(Path.Combine(_dir, "claude_apikey_0123456789ab.cds")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "claude-a_example.com.cds")));

        // "Restart": a new book, five minutes later.
        _clock.Advance(TimeSpan.FromMinutes(5));
        var after = new CooldownBook();
        Assert.Equal(2, Files(after).Load());
        Assert.Equal(until, after.BlockedUntil("claude-a@example.com.json", "claude-m", _clock.GetUtcNow()));
        Assert.Equal(2, after.Get("claude-a@example.com.json", "claude-m")!.BackoffLevel);
        Assert.NotNull(after.BlockedUntil("claude:apikey:0123456789ab", "any-model", _clock.GetUtcNow()));

        _clock.Advance(TimeSpan.FromMinutes(5)); // the 429's reset time
        Assert.Null(after.BlockedUntil("claude-a@example.com.json", "claude-m", _clock.GetUtcNow()));
    }

    [Fact]
    public async Task Ended_and_cleared_cooldowns_leave_no_file_behind()
    {
        var book = new CooldownBook();
        var files = Files(book);
        book.Set("a.json", "m", new Cooldown(_clock.GetUtcNow() + TimeSpan.FromMinutes(1), FailureKind.Transient, 503, 0));
        book.Set("b.json", "m", new Cooldown(_clock.GetUtcNow() + TimeSpan.FromMinutes(1), FailureKind.Transient, 503, 0));
        await files.WhenFlushedAsync();
        book.Succeeded("a.json", "m");
        await files.WhenFlushedAsync();
        Assert.False(File.Exists(Path.Combine(_dir, "a.cds")));
        Assert.True(File.Exists(Path.Combine(_dir, "b.cds")));

        _clock.Advance(TimeSpan.FromMinutes(2)); // ended while the server was down
        Assert.Equal(0, Files(new CooldownBook()).Load());
        Assert.False(File.Exists(Path.Combine(_dir, "b.cds")));
    }

    [Fact]
    public async Task Nothing_is_written_when_the_setting_is_off()
    {
        var book = new CooldownBook();
        var files = Files(book, enabled: false);
        book.Set("a.json", "m", new Cooldown(_clock.GetUtcNow() + TimeSpan.FromMinutes(1), FailureKind.Transient, 503, 0));
        await files.WhenFlushedAsync();
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
