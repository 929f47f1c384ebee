using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.IFlow;

/// <summary>
/// platform.iflow.cn's API-key endpoint, used with a browser cookie: <c>GET</c> reads the account's key (its name and
/// expiry), <c>POST {"name"}</c> regenerates it. It answers like a browser page would, so the calls look like one.
/// </summary>
internal static partial class IFlowPlatform
{
    public const string DefaultPlatformUrl = "https://platform.iflow.cn/api/openapi/apikey";

    private const string BrowserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36";

    /// <summary>The key's name (the account's label), the key, and its expiry as the platform writes it (<c>yyyy-MM-dd HH:mm</c>).</summary>
    internal sealed record ApiKeyInfo(string Name, string ApiKey, string? ExpireTime)
    {
        public override string ToString() => $"ApiKeyInfo({Name}, expires {ExpireTime})";
    }

    /// <summary>Whitespace collapsed and a trailing <c>;</c>, as a browser's copied cookie header is pasted in many shapes.</summary>
    public static string NormalizeCookie(string? raw)
    {
        var cookie = Whitespace().Replace(raw?.Trim() ?? "", " ");
        return cookie.Length == 0 || cookie.EndsWith(';') ? cookie : cookie + ";";
    }

    /// <summary>The BXAuth value of a cookie, or null.</summary>
    public static string? BXAuth(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie)) return null;
        var match = BXAuthValue().Match(cookie);
        return match.Success && match.Groups[1].Value.Trim() is { Length: > 0 } value ? value : null;
    }

    public static async Task<ApiKeyInfo> GetKeyAsync(HttpClient http, PluginSettings settings, string cookie, CancellationToken cancellationToken)
    {
        using var request = BrowserRequest(HttpMethod.Get, settings, cookie);
        return await KeyAsync(http, request, "reading the iFlow API key", cookie, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<ApiKeyInfo> RegenerateKeyAsync(HttpClient http, PluginSettings settings, string cookie, string name, CancellationToken cancellationToken)
    {
        using var request = BrowserRequest(HttpMethod.Post, settings, cookie);
        request.Content = new StringContent(new JsonObject { ["name"] = name }.ToJsonString(), Encoding.UTF8, "application/json");
        var origin = new Uri(request.RequestUri!.GetLeftPart(UriPartial.Authority)).ToString().TrimEnd('/');
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Referer", origin + "/");
        var key = await KeyAsync(http, request, "regenerating the iFlow API key", cookie, cancellationToken).ConfigureAwait(false);
        return key with { Name = key.Name.Length > 0 ? key.Name : name };
    }

    private static HttpRequestMessage BrowserRequest(HttpMethod method, PluginSettings settings, string cookie)
    {
        var request = new HttpRequestMessage(method, settings.GetString("platform-url", DefaultPlatformUrl));
        request.Headers.TryAddWithoutValidation("Cookie", cookie);
        request.Headers.TryAddWithoutValidation("User-Agent", BrowserAgent);
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/plain, */*");
        request.Headers.TryAddWithoutValidation("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Dest", "empty");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "cors");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        return request;
    }

    private static async Task<ApiKeyInfo> KeyAsync(HttpClient http, HttpRequestMessage request, string operation, string cookie, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(http, request, operation, cancellationToken).ConfigureAwait(false);
        if (status is 401 or 403)
            throw new LoginRequiredException($"{operation} failed: HTTP {status}; the cookie no longer works, run login iflow --cookie");
        var data = Data(status, body, operation, [cookie, BXAuth(cookie) ?? cookie]);
        var apiKey = Text(data, "apiKey") ?? throw new OAuthException($"{operation} failed: the answer has no apiKey");
        return new ApiKeyInfo(Text(data, "name") ?? "", apiKey, Text(data, "expireTime"));
    }

    /// <summary>Sends and reads the body as text, inflating gzip even when the platform forgets to say so.</summary>
    internal static async Task<(int Status, string Body)> SendAsync(HttpClient http, HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new OAuthException($"{operation} failed: cannot reach {request.RequestUri?.Authority} ({e.HttpRequestError})", inner: e);
        }
        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var inflated = new MemoryStream();
                await gzip.CopyToAsync(inflated, cancellationToken).ConfigureAwait(false);
                bytes = inflated.ToArray();
            }
            return ((int)response.StatusCode, Encoding.UTF8.GetString(bytes));
        }
    }

    /// <summary>The <c>data</c> object of a <c>{"success":true,"data":{...}}</c> answer; anything else is an error without the secrets sent.</summary>
    internal static JsonObject Data(int status, string body, string operation, IEnumerable<string> secrets)
    {
        JsonObject? json = null;
        try
        {
            json = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (status is >= 200 and < 300 && json?["success"] is JsonValue ok && ok.TryGetValue<bool>(out var success) && success && json["data"] is JsonObject data)
            return data;
        var message = Text(json, "message") ?? Text(json, "msg") ?? Text(json, "error") ?? (json is null ? $"a non-JSON answer of {body.Length} characters" : "no data in the answer");
        if (message.Length > 200) message = message[..200];
        foreach (var secret in secrets)
            if (secret.Length >= 6) message = message.Replace(secret, "[redacted]", StringComparison.Ordinal);
        throw new OAuthException($"{operation} failed: HTTP {status}: {message}", status);
    }

    internal static string? Text(JsonObject? json, string name) =>
        json?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { } text && !string.IsNullOrWhiteSpace(text)
            ? text.Trim()
            : null;

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"(?:^|[;\s])BXAuth=([^;]*)")]
    private static partial Regex BXAuthValue();
}
