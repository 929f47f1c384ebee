using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Host.Routing;

/// <summary>
/// A test server whose plugins folder holds a copy of the built-in OpenAICompat plugin (serving a
/// <see cref="FakeOpenAIUpstream"/> as provider <c>fake-openai</c>, model <c>client-model</c>) and the test router.
/// </summary>
internal static class RoutingTestServer
{
    public const string ClientKey = "client-key-routing";
    public const string ClientModel = "client-model";
    public const string UpstreamModel = "upstream-model";

    public static Task<TestServer> StartAsync(FakeOpenAIUpstream upstream, string forwardUrl = "http://127.0.0.1:9") =>
        TestServer.StartAsync($"""
            api-keys: ["{ClientKey}"]
            providers:
              test-router:
                upstream-url: "{forwardUrl}"
            openai-compatibility:
              - name: "fake-openai"
                base-url: "{upstream.BaseUrl}"
                api-key-entries:
                  - api-key: "sk-upstream-routing"
                models:
                  - name: "{UpstreamModel}"
                    alias: "{ClientModel}"
            """,
            prepare: root =>
            {
                var plugins = Path.Combine(root, "plugins");
                CopyDirectory(Path.Combine(AppContext.BaseDirectory, "plugins", "PluginProxy.Plugins.OpenAICompat"), Path.Combine(plugins, "PluginProxy.Plugins.OpenAICompat"));
                TestPluginCompiler.Deploy(plugins, TestRouterPlugin.Name, TestRouterPlugin.Compile());
            },
            clientKey: ClientKey);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
