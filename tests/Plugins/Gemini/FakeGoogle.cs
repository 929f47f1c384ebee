using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Tests.Sdk.OAuth;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>The built Gemini CLI plugin, loaded from the test output's plugins folder.</summary>
internal static class GeminiCliPluginUnderTest
{
    private static readonly Lazy<IProviderPlugin> Instance = new(() =>
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "plugins", "PluginProxy.Plugins.Gemini");
        var assembly = Assembly.LoadFrom(Path.Combine(folder, "PluginProxy.Plugins.Gemini.dll"));
        return (IProviderPlugin)Activator.CreateInstance(assembly.GetType("PluginProxy.Plugins.Gemini.GeminiCliPlugin", throwOnError: true)!)!;
    });

    public static IAuthenticator Authenticator => Instance.Value.Authenticator!;
}

/// <summary>
/// Every Google endpoint <c>login gemini</c> calls, on one loopback fake: token, userinfo, Cloud Resource Manager,
/// Code Assist (<c>loadCodeAssist</c>, <c>onboardUser</c>) and Service Usage. Answers are set per test.
/// </summary>
internal sealed class FakeGoogle : IAsyncDisposable
{
    public const string Email = "dev@example.test";
    public const string AccessToken = "ya29.fake-access-123456";
    public const string RefreshToken = "1//fake-refresh-123456";

    private readonly ConcurrentDictionary<string, int> _onboardCalls = new();
    private FakeUpstreamHost _host = null!;

    public FakeReply UserInfo { get; set; } = FakeReply.Json(new JsonObject { ["email"] = Email, ["verified_email"] = true });
    public string[] Projects { get; set; } = ["proj-alpha", "proj-beta"];

    /// <summary>The loadCodeAssist answer for a project; by default a Standard tier account.</summary>
    public Func<string?, FakeReply> LoadCodeAssist { get; set; } = _ => FakeReply.Json(JsonNode.Parse("""
        {"currentTier":{"id":"standard-tier"},"allowedTiers":[{"id":"free-tier"},{"id":"standard-tier","isDefault":true}]}
        """)!);

    /// <summary>On which call (per project) onboardUser reports <c>done</c>.</summary>
    public int OnboardDoneOnCall { get; set; } = 1;

    /// <summary>Projects whose Cloud AI Companion API is not enabled yet.</summary>
    public HashSet<string> Disabled { get; } = [];

    public IReadOnlyList<RecordedRequest> Requests => _host.Requests;

    public string Root => _host.Root.GetLeftPart(UriPartial.Authority);

    public IReadOnlyList<RecordedRequest> To(string pathEnd) => [.. Requests.Where(r => r.Path.EndsWith(pathEnd, StringComparison.Ordinal))];

    public static async Task<FakeGoogle> StartAsync()
    {
        var fake = new FakeGoogle();
        fake._host = await FakeUpstreamHost.StartAsync((http, request) => fake.Answer(request).WriteAsync(http, request));
        return fake;
    }

    /// <summary>
    /// The plugin's settings, given in the shared <c>providers.gemini</c> block (the fallback the gemini-cli plugin reads);
    /// <paramref name="own"/> goes in the plugin's own <c>providers.gemini-cli</c> block, which wins.
    /// </summary>
    public PluginSettings Settings((string Key, string Value)? own = null)
    {
        var gemini = new JsonObject
        {
            ["auth-url"] = "https://accounts.fake.test/o/oauth2/auth",
            ["token-url"] = $"{Root}/token",
            ["userinfo-url"] = $"{Root}/oauth2/v1/userinfo?alt=json",
            ["projects-url"] = $"{Root}/v1/projects",
            ["code-assist-url"] = Root,
            ["service-usage-url"] = $"{Root}/su",
        };
        var root = JsonDocument.Parse(new JsonObject { ["providers"] = new JsonObject { ["gemini"] = gemini } }.ToJsonString()).RootElement.Clone();
        var ownBlock = new JsonObject();
        if (own is { } o) ownBlock[o.Key] = o.Value;
        return new PluginSettings(JsonDocument.Parse(ownBlock.ToJsonString()).RootElement.Clone(), root);
    }

    private FakeReply Answer(RecordedRequest request)
    {
        var path = request.Path;
        if (path == "/token") return FakeTokenEndpoint.Tokens(AccessToken, RefreshToken, 3599);
        if (path == "/oauth2/v1/userinfo") return UserInfo;
        if (path == "/v1/projects")
            return FakeReply.Json(new JsonObject { ["projects"] = new JsonArray([.. Projects.Select(p => (JsonNode)new JsonObject { ["projectId"] = p, ["name"] = p.ToUpperInvariant(), ["lifecycleState"] = "ACTIVE" })]) });
        if (path == "/v1internal:loadCodeAssist") return LoadCodeAssist((string?)request.Json?["cloudaicompanionProject"]);
        if (path == "/v1internal:onboardUser")
        {
            var project = (string?)request.Json?["cloudaicompanionProject"] ?? "";
            var call = _onboardCalls.AddOrUpdate(project, 1, (_, n) => n + 1);
            return call < OnboardDoneOnCall
                ? FakeReply.Json(new JsonObject { ["name"] = "operations/onboard-1", ["done"] = false })
                : FakeReply.Json(new JsonObject { ["name"] = "operations/onboard-1", ["done"] = true, ["response"] = new JsonObject { ["cloudaicompanionProject"] = new JsonObject { ["id"] = project, ["name"] = project } } });
        }
        const string service = "/services/cloudaicompanion.googleapis.com";
        if (path.StartsWith("/su/v1/projects/", StringComparison.Ordinal))
        {
            var project = path["/su/v1/projects/".Length..].Split('/')[0];
            if (path.EndsWith(service + ":enable", StringComparison.Ordinal))
            {
                Disabled.Remove(project);
                return FakeReply.Json(new JsonObject { ["name"] = "operations/enable-1", ["done"] = true });
            }
            if (path.EndsWith(service, StringComparison.Ordinal))
                return FakeReply.Json(new JsonObject { ["name"] = $"projects/{project}{service}", ["state"] = Disabled.Contains(project) ? "DISABLED" : "ENABLED" });
        }
        return FakeReply.Error(404, """{"error":{"code":404,"message":"fake: no such endpoint","status":"NOT_FOUND"}}""");
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
