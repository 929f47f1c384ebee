using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Management;
using PluginProxy.Host.UsageStatistics;

namespace PluginProxy.Tests.Host.UsageStatistics;

/// <summary>The three endpoints on a plain group (the management group, its key and its lockout are tested with it).</summary>
public sealed class UsageEndpointsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 2, 7, 8, 0, 0, TimeSpan.Zero);

    private sealed class Host(WebApplication app, UsageRecorder usage, string address) : IAsyncDisposable
    {
        public UsageRecorder Usage => usage;
        public HttpClient Client { get; } = new() { BaseAddress = new Uri(address) };

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
            usage.Dispose();
        }
    }

    private static async Task<Host> StartAsync()
    {
        var usage = UsageTestKit.Recorder(UsageTestKit.TempDir());
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(usage).AddSingleton(TimeProvider.System);
        var app = builder.Build();
        app.MapGroup("/v0/management").MapUsage();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        return new Host(app, usage, address);
    }

    private static async Task<(HttpStatusCode, JsonNode)> PostAsync(Host host, string path, string body)
    {
        using var response = await host.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Get_usage_export_and_import_speak_cliproxyapis_shapes()
    {
        await using var source = await StartAsync();
        source.Usage.Enqueue(UsageTestKit.Record(T0));
        source.Usage.Enqueue(UsageTestKit.Record(T0.AddMinutes(1), failed: true));

        var usage = JsonNode.Parse(await source.Client.GetStringAsync("/v0/management/usage"))!;
        Assert.Equal(2, (long)usage["usage"]!["total_requests"]!);
        Assert.Equal(1, (long)usage["failed_requests"]!);

        using var export = await source.Client.GetAsync("/v0/management/usage/export");
        Assert.Equal("application/json", export.Content.Headers.ContentType!.MediaType);
        var exported = await export.Content.ReadAsStringAsync();
        var json = JsonNode.Parse(exported)!;
        Assert.Equal(1, (int)json["version"]!);
        Assert.True(DateTimeOffset.TryParse((string?)json["exported_at"], out _));
        Assert.Equal(2, json["usage"]!["apis"]!["key-00000001"]!["models"]!["m"]!["details"]!.AsArray().Count);

        await using var target = await StartAsync();
        var (status, answer) = await PostAsync(target, "/v0/management/usage/import", exported);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"added":2,"skipped":0,"total_requests":2,"failed_requests":1}"""), answer), answer.ToJsonString());
        (_, answer) = await PostAsync(target, "/v0/management/usage/import", exported);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"added":0,"skipped":2,"total_requests":2,"failed_requests":1}"""), answer), answer.ToJsonString());
    }

    [Theory]
    [InlineData("{not json", "invalid json")]
    [InlineData("""{"version":3,"usage":{}}""", "unsupported version")]
    public async Task A_bad_import_is_a_400_with_a_message(string body, string message)
    {
        await using var host = await StartAsync();

        var (status, answer) = await PostAsync(host, "/v0/management/usage/import", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, (string?)answer["error"]);
        Assert.Equal(0, host.Usage.Totals().Requests);
    }
}
