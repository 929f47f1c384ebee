using System.Net.Http.Headers;
using System.Text;

namespace PluginProxy.Tests.Support.Fakes;

/// <summary>
/// The real server with the built-in OpenAICompat plugin, configured with one <c>openai-compatibility</c> entry that
/// points at a <see cref="FakeOpenAIUpstream"/>: clients ask for <see cref="ClientModel"/>, the fake sees
/// <see cref="UpstreamModel"/> and <c>Authorization: Bearer</c> <see cref="UpstreamKey"/>.
/// </summary>
internal sealed class OpenAICompatProxy : IAsyncDisposable
{
    public const string ClientModel = "client-model";
    public const string UpstreamModel = "upstream-model";
    public const string UpstreamKey = "sk-upstream-e2e";
    public const string ClientKey = "client-key-e2e";

    private OpenAICompatProxy(FakeOpenAIUpstream upstream, TestServer server)
    {
        Upstream = upstream;
        Server = server;
    }

    public FakeOpenAIUpstream Upstream { get; }
    public TestServer Server { get; }
    public HttpClient Client => Server.Client;
    public Uri Address => Server.Address;

    /// <summary>The server root without a trailing slash (what SDKs take as base URL).</summary>
    public string BaseUrl => Server.Address.GetLeftPart(UriPartial.Authority);

    /// <param name="extraConfig">More config.yaml lines (top-level keys).</param>
    public static async Task<OpenAICompatProxy> StartAsync(string extraConfig = "")
    {
        var upstream = await FakeOpenAIUpstream.StartAsync();
        try
        {
            var config = $"""
                api-keys: ["{ClientKey}"]
                openai-compatibility:
                  - name: "fake-openai"
                    base-url: "{upstream.BaseUrl}"
                    api-key-entries:
                      - api-key: "{UpstreamKey}"
                    models:
                      - name: "{UpstreamModel}"
                        alias: "{ClientModel}"
                {extraConfig}
                """;
            var server = await TestServer.StartAsync(config, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));
            return new OpenAICompatProxy(upstream, server);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    public OpenAICompatProxy Enqueue(params FakeReply[] replies)
    {
        Upstream.Enqueue(replies);
        return this;
    }

    /// <summary>POSTs a JSON body and reads the whole answer.</summary>
    public async Task<(int Status, string Body, HttpResponseMessage Response)> PostAsync(string path, string json)
    {
        var response = await Server.PostJsonAsync(path, json);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>POSTs raw bytes (exact body, exact content type).</summary>
    public Task<HttpResponseMessage> PostBytesAsync(string path, byte[] body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, completion);
    }

    public Task<HttpResponseMessage> PostBytesAsync(string path, string body) => PostBytesAsync(path, Encoding.UTF8.GetBytes(body));

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
