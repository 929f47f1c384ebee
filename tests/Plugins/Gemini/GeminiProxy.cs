using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Support;
using PluginProxy.Tests.Support.Fakes;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>Which kind of Gemini account the server is configured with.</summary>
public enum AccountKind
{
    /// <summary>A <c>gemini-api-key</c> entry pointed at the fake (Generative Language API).</summary>
    ApiKey,
    /// <summary>A Gemini CLI auth file, with <c>providers.gemini.code-assist-url</c> pointed at the fake (Code Assist).</summary>
    GeminiCli,
    /// <summary>A Vertex service-account file, with <c>providers.vertex.api-url</c> and <c>token-url</c> pointed at the fake.</summary>
    Vertex,
}

/// <summary>
/// The real server with the built Gemini plugin and one fake Google upstream on loopback. Replies are scripted as plain
/// Gemini responses; for a Gemini CLI account the fake wraps them in Code Assist's <c>{"response": ...}</c> envelope
/// (SSE events too), as Google does.
/// </summary>
internal sealed class GeminiProxy : IAsyncDisposable
{
    public const string ClientKey = "client-key-gemini";
    public const string ApiKeyOne = "AIza-key-one-0001";
    public const string ApiKeyTwo = "AIza-key-two-0002";
    public const string AccessToken = "ya29.access-token-a";
    public const string RefreshToken = "1//refresh-token-a";
    public const string Project = "proj-alpha";
    public const string Model = "gemini-2.5-pro";
    public const string VertexToken = "ya29.vertex-token";
    public const string Location = "us-central1";

    /// <summary>The regional aiplatform path a Vertex account calls for a model (method appended).</summary>
    public const string VertexModelPath = $"/v1/projects/{Project}/locations/{Location}/publishers/google/models/";

    /// <summary>A Vertex credential file as <c>import vertex</c> writes it, with a fresh RSA key.</summary>
    public static JsonObject VertexFile()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        return new JsonObject
        {
            ["type"] = "vertex",
            ["project_id"] = Project,
            ["email"] = "svc@proj-alpha.iam.gserviceaccount.com",
            ["location"] = Location,
            ["service_account"] = new JsonObject
            {
                ["type"] = "service_account", ["project_id"] = Project, ["client_email"] = "svc@proj-alpha.iam.gserviceaccount.com",
                ["private_key"] = key.ExportPkcs8PrivateKeyPem() + "\n", ["token_uri"] = "https://oauth2.googleapis.com/token",
            },
        };
    }

    private readonly ConcurrentQueue<Func<RecordedRequest, GeminiReply>> _replies = new();

    private GeminiProxy(AccountKind kind) => Kind = kind;

    public AccountKind Kind { get; }
    public FakeUpstreamHost Upstream { get; private set; } = null!;
    public TestServer Server { get; private set; } = null!;
    public HttpClient Client => Server.Client;

    /// <summary>Requests that reached the fake, other than token endpoint calls.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. Upstream.Requests.Where(r => r.Path != "/token")];

    /// <summary>Answers each request by looking at it; null falls back to the queue.</summary>
    public Func<RecordedRequest, GeminiReply?>? Responder { get; set; }

    /// <summary>Answers for the fake token endpoint (<c>POST /token</c>).</summary>
    public Func<RecordedRequest, FakeReply>? TokenEndpoint { get; set; }

    /// <param name="twoApiKeys">Two <c>gemini-api-key</c> entries (for failover tests); ApiKey only.</param>
    /// <param name="authFile">The Gemini CLI auth file; a valid one by default.</param>
    public static async Task<GeminiProxy> StartAsync(AccountKind kind, bool twoApiKeys = false, JsonObject? authFile = null, string extraConfig = "", TimeProvider? clock = null,
        Func<RecordedRequest, FakeReply>? tokenEndpoint = null)
    {
        var proxy = new GeminiProxy(kind) { TokenEndpoint = tokenEndpoint };
        proxy.Upstream = await FakeUpstreamHost.StartAsync(proxy.HandleAsync);
        var root = proxy.Upstream.Root.GetLeftPart(UriPartial.Authority);
        var lines = new List<string> { $"api-keys: [\"{ClientKey}\"]" };
        if (kind == AccountKind.ApiKey)
        {
            lines.Add("gemini-api-key:");
            foreach (var key in twoApiKeys ? new[] { ApiKeyOne, ApiKeyTwo } : [ApiKeyOne])
            {
                lines.Add($"  - api-key: \"{key}\"");
                lines.Add($"    base-url: \"{root}\"");
            }
        }
        lines.Add("providers:");
        lines.Add("  gemini:");
        lines.Add($"    code-assist-url: \"{root}\"");
        lines.Add($"    token-url: \"{root}/token\"");
        lines.Add("  vertex:");
        lines.Add($"    api-url: \"{root}\"");
        lines.Add($"    token-url: \"{root}/token\"");
        if (kind == AccountKind.Vertex)
            proxy.TokenEndpoint ??= _ => FakeReply.Json(new JsonObject { ["access_token"] = VertexToken, ["expires_in"] = 3600, ["token_type"] = "Bearer" });
        var config = string.Join("\n", lines) + "\n" + extraConfig;
        var file = authFile ?? CliAuthFile(DateTimeOffset.UtcNow.AddHours(1));
        proxy.Server = await TestServer.StartAsync(config, prepare: dir =>
        {
            if (kind == AccountKind.GeminiCli) File.WriteAllText(Path.Combine(dir, "auths", "gemini-a@example.com-proj-alpha.json"), file.ToJsonString());
            if (kind == AccountKind.Vertex) File.WriteAllText(Path.Combine(dir, "auths", $"vertex-{Project}.json"), VertexFile().ToJsonString());
        }, clientKey: ClientKey, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"), clock: clock);
        return proxy;
    }

    /// <summary>A CLIProxyAPI-shaped Gemini CLI auth file.</summary>
    public static JsonObject CliAuthFile(DateTimeOffset expiry, string project = Project) => new()
    {
        ["type"] = "gemini",
        ["email"] = "a@example.com",
        ["project_id"] = project,
        ["token"] = new JsonObject
        {
            ["access_token"] = AccessToken,
            ["refresh_token"] = RefreshToken,
            ["token_type"] = "Bearer",
            ["expiry"] = expiry.ToString("yyyy-MM-dd'T'HH:mm:ssK"),
        },
    };

    public GeminiProxy Enqueue(params GeminiReply[] replies)
    {
        foreach (var reply in replies) _replies.Enqueue(_ => reply);
        return this;
    }

    private Task HandleAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path == "/token")
            return (TokenEndpoint?.Invoke(request) ?? FakeReply.Error(400, """{"error":"invalid_grant"}""")).WriteAsync(http, request);
        var reply = Responder?.Invoke(request);
        if (reply is null && _replies.TryDequeue(out var next)) reply = next(request);
        if (reply is null) return FakeReply.Error(500, """{"error":{"code":500,"message":"fake: no reply scripted","status":"INTERNAL"}}""").WriteAsync(http, request);
        return reply.WriteAsync(http, request, Kind == AccountKind.GeminiCli);
    }

    /// <summary>POSTs JSON and reads the whole answer.</summary>
    public async Task<(int Status, string Body, HttpResponseMessage Response)> PostAsync(string path, string json)
    {
        var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        });
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>POSTs exact bytes.</summary>
    public async Task<(int Status, byte[] Body, HttpResponseMessage Response)> PostBytesAsync(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content });
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response);
    }

    /// <summary>The body the upstream saw as a Gemini request (Code Assist's <c>request</c> unwrapped).</summary>
    public JsonObject GeminiBody(RecordedRequest request) =>
        Kind == AccountKind.GeminiCli ? request.Json!["request"]!.AsObject() : request.Json!;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>A scripted Gemini answer: one JSON response, an SSE stream of chunks, or an error.</summary>
internal sealed class GeminiReply
{
    private readonly JsonObject? _json;
    private readonly List<JsonObject>? _chunks;
    private readonly (int Status, string Body)? _error;
    private readonly byte[]? _raw;
    private readonly string? _rawType;

    private GeminiReply(JsonObject? json, List<JsonObject>? chunks, (int, string)? error, byte[]? raw = null, string? rawType = null)
    {
        _json = json;
        _chunks = chunks;
        _error = error;
        _raw = raw;
        _rawType = rawType;
    }

    public static GeminiReply Json(JsonObject response) => new(response, null, null);

    public static GeminiReply Json(string response) => Json(JsonNode.Parse(response)!.AsObject());

    /// <summary>SSE (with <c>alt=sse</c>) or a JSON array (without), as Google frames streamGenerateContent.</summary>
    public static GeminiReply Stream(params string[] chunks) => new(null, [.. chunks.Select(c => JsonNode.Parse(c)!.AsObject())], null);

    public static GeminiReply Error(int status, string body) => new(null, null, (status, body));

    /// <summary>Exact bytes, whatever the account kind.</summary>
    public static GeminiReply Raw(string contentType, byte[] body) => new(null, null, null, body, contentType);

    public Task WriteAsync(HttpContext http, RecordedRequest request, bool codeAssist)
    {
        if (_raw is not null) return FakeReply.Raw(200, _rawType!, _raw).WriteAsync(http, request);
        if (_error is { } error) return FakeReply.Error(error.Status, error.Body).WriteAsync(http, request);
        JsonNode Wrap(JsonObject r) => codeAssist ? new JsonObject { ["response"] = r.DeepClone(), ["traceId"] = "trace-1" } : r.DeepClone();
        if (_json is not null) return FakeReply.Json(Wrap(_json)).WriteAsync(http, request);
        if (request.Query.Contains("alt=sse"))
            return FakeReply.Sse(_chunks!.Select(c => "data: " + Wrap(c).ToJsonString() + "\r\n\r\n")).WriteAsync(http, request);
        var array = new JsonArray([.. _chunks!.Select(Wrap)]);
        return FakeReply.Raw(200, "application/json", Encoding.UTF8.GetBytes(array.ToJsonString())).WriteAsync(http, request);
    }
}
