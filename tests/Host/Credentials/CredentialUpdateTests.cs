using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Host.Credentials;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Credentials;

public sealed class CredentialUpdateTests
{
    private static readonly DateTimeOffset Far = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_metadata_update_writes_atomically_owner_only_keeps_other_fields_and_publishes_once()
    {
        await using var h = await LifecycleHarness.StartAsync(new TimerClock(), "http://127.0.0.1:9/unused",
            [("a.json", LifecyclePlugin.Credential("alice", "tok-a", Far, ",\"project_id\":\"old\",\"custom\":{\"x\":1}"))], startLifecycle: false);
        var published = 0;
        h.Store.Changed += _ => Interlocked.Increment(ref published);
        var before = h.Store.Current.Revision;

        var updated = await h.Store.UpdateAsync(h.Credential("a.json"), json => json["project_id"] = "p-1");

        Assert.NotNull(updated);
        Assert.Equal("p-1", updated.GetString("project_id"));
        Assert.Same(updated, h.Credential("a.json"));
        var path = Path.Combine(h.AuthDir, "a.json");
        var file = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal("p-1", (string?)file["project_id"]);
        Assert.Equal("tok-a", (string?)file["access_token"]);
        Assert.Equal("refresh-tok-a", (string?)file["refresh_token"]);
        Assert.Equal("lifecycled", (string?)file["type"]);
        Assert.Equal(1, (int?)file["custom"]!["x"]);
        Assert.Equal(Far, updated.ExpiresAt);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Empty(Directory.GetFiles(h.AuthDir, "*.tmp", new EnumerationOptions { AttributesToSkip = 0 }));
        Assert.Equal(before + 1, h.Store.Current.Revision);
        Assert.Equal(1, published);

        await Task.Delay(800); // past the watcher's debounce: its echo of the write matches by hash, so nothing is republished
        Assert.Equal(before + 1, h.Store.Current.Revision);
        Assert.Equal(1, published);
    }

    [Fact]
    public async Task Updating_a_config_credential_or_a_deleted_file_writes_nothing()
    {
        await using var h = await LifecycleHarness.StartAsync(new TimerClock(), "http://127.0.0.1:9/unused",
            [("a.json", LifecyclePlugin.Credential("alice", "tok-a", Far))], startLifecycle: false);
        var record = h.Credential("a.json");
        var config = new CredentialRecord { Id = "claude:apikey:abc", Type = "claude", Provider = "claude", Label = "claude-apikey", Source = CredentialSource.Config };

        Assert.Null(await h.Store.UpdateAsync(config, json => json["x"] = 1));
        File.Delete(Path.Combine(h.AuthDir, "a.json"));
        Assert.Null(await h.Store.UpdateAsync(record, json => json["x"] = 1));
        Assert.False(File.Exists(Path.Combine(h.AuthDir, "a.json")));
    }

    [Fact]
    public async Task Concurrent_updates_during_a_refresh_keep_each_others_fields()
    {
        var release = new TaskCompletionSource();
        await using var tokens = await FakeUpstreamHost.StartAsync(async (http, _) =>
        {
            await release.Task;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"access_token":"fresh-a","expires_in":3600}""");
        });
        await using var h = await LifecycleHarness.StartAsync(new TimerClock(), tokens.Root + "token",
            [("a.json", LifecyclePlugin.Credential("alice", "old-a", Far))], startLifecycle: false);

        var refresh = h.Refresher.RefreshWithOutcomeAsync(h.Credential("a.json"));
        await TestServer.EventuallyAsync(() => Task.FromResult(tokens.Requests.Count == 1), "the refresh is under way");
        // Ten plugin updates land while the refresh runs, each on the record the request had.
        var updates = Enumerable.Range(0, 10).Select(i => Task.Run(() => h.Store.UpdateAsync(h.Credential("a.json"), json => json[$"field{i}"] = i))).ToList();
        await Task.WhenAll(updates);
        release.SetResult();

        Assert.Equal(RefreshOutcome.Refreshed, await refresh);
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(h.AuthDir, "a.json")))!.AsObject();
        Assert.Equal("fresh-a", (string?)file["access_token"]);
        for (var i = 0; i < 10; i++) Assert.Equal(i, (int?)file[$"field{i}"]);
        Assert.Equal("fresh-a", h.Credential("a.json").GetString("access_token"));
    }

    [Fact]
    public void A_refresh_is_merged_field_by_field_with_what_changed_meanwhile()
    {
        var basis = JsonDocument.Parse("""{"a":1,"b":1,"c":1,"nested":{"t":"old"}}""").RootElement;
        var refreshed = JsonNode.Parse("""{"a":2,"b":1,"nested":{"t":"new"}}""")!.AsObject();   // changed a and nested, removed c
        var current = JsonNode.Parse("""{"a":1,"b":3,"c":1,"d":4,"nested":{"t":"old"}}""")!.AsObject(); // an update changed b, added d

        var merged = CredentialStore.Merge(basis, refreshed, current);

        JsonAssert.Equal("""{"a":2,"b":3,"d":4,"nested":{"t":"new"}}""", merged);
    }
}
