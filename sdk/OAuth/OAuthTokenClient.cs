using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Sdk.OAuth;

/// <summary>How a token endpoint wants its body.</summary>
public enum TokenBodyFormat
{
    /// <summary><c>application/x-www-form-urlencoded</c> (RFC 6749; OpenAI, Google, Qwen).</summary>
    Form,
    /// <summary>A JSON object of strings (Anthropic).</summary>
    Json,
}

/// <summary>
/// Talks to one token endpoint: trades an authorization code, refreshes a token. A rejected grant
/// (<c>invalid_grant</c>, or a 401 on refresh) throws <see cref="LoginRequiredException"/>; any other failure an
/// <see cref="OAuthException"/> with the status and the provider's error, never with a token or the code.
/// </summary>
public sealed class OAuthTokenClient(string tokenEndpoint, string clientId, TokenBodyFormat format = TokenBodyFormat.Form)
{
    public string TokenEndpoint { get; } = tokenEndpoint;
    public string ClientId { get; } = clientId;
    public TokenBodyFormat Format { get; } = format;

    /// <summary>Sent as <c>client_secret</c> in the body, or in a Basic header with <see cref="UseBasicAuth"/>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>Sends <c>Authorization: Basic base64(client_id:client_secret)</c> (iFlow) instead of the secret in the body.</summary>
    public bool UseBasicAuth { get; init; }

    /// <summary>Extra request headers (a provider's User-Agent, device headers).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Stamps <see cref="TokenResponse.ExpiresAt"/>.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The authorization_code grant: <c>code</c>, <c>redirect_uri</c>, <c>code_verifier</c> (with PKCE), then <paramref name="extra"/>.</summary>
    public Task<TokenResponse> ExchangeCodeAsync(HttpClient http, AuthorizationCode code, IEnumerable<KeyValuePair<string, string>>? extra = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        var parameters = new List<KeyValuePair<string, string>> { new("grant_type", "authorization_code"), new("code", code.Code), new("redirect_uri", code.RedirectUri) };
        if (code.CodeVerifier is { } verifier) parameters.Add(new("code_verifier", verifier));
        if (extra is not null) parameters.AddRange(extra);
        return RequestAsync(http, parameters, "code exchange", cancellationToken);
    }

    /// <summary>The refresh_token grant, then <paramref name="extra"/> (a <c>scope</c>, for example).</summary>
    public Task<TokenResponse> RefreshAsync(HttpClient http, string refreshToken, IEnumerable<KeyValuePair<string, string>>? extra = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        var parameters = new List<KeyValuePair<string, string>> { new("grant_type", "refresh_token"), new("refresh_token", refreshToken) };
        if (extra is not null) parameters.AddRange(extra);
        return RequestAsync(http, parameters, "token refresh", cancellationToken);
    }

    /// <summary>Any grant: posts <paramref name="parameters"/> (plus client_id and the secret) and parses the answer.</summary>
    /// <param name="operation">Names the call in error messages ("token refresh" makes a 401 mean a new login is needed).</param>
    public async Task<TokenResponse> RequestAsync(HttpClient http, IReadOnlyList<KeyValuePair<string, string>> parameters, string operation,
        CancellationToken cancellationToken = default)
    {
        var answer = await SendAsync(http, parameters, operation, cancellationToken).ConfigureAwait(false);
        if (answer.IsSuccess) return TokenResponse.Parse(answer.Body!, answer.ReceivedAt);
        if (answer.Status is >= 200 and < 300 && answer.Error is null)
            throw new OAuthException($"{operation} failed: HTTP {answer.Status} without an access_token", answer.Status);
        var refresh = parameters.Any(p => p is { Key: "grant_type", Value: "refresh_token" });
        var message = $"{operation} failed: {answer.Describe()}";
        if (answer.Error == "invalid_grant" || (refresh && answer.Status == 401))
            throw new LoginRequiredException($"{message}; run login again");
        throw new OAuthException(message, answer.Status, answer.Error);
    }

    /// <summary>One POST; transport failures become <see cref="OAuthException"/>, answers of any status are returned.</summary>
    internal async Task<TokenAnswer> SendAsync(HttpClient http, IReadOnlyList<KeyValuePair<string, string>> parameters, string operation,
        CancellationToken cancellationToken)
    {
        var all = new List<KeyValuePair<string, string>>(parameters.Count + 2);
        if (!parameters.Any(p => p.Key == "client_id")) all.Add(new("client_id", ClientId));
        all.AddRange(parameters);
        if (ClientSecret is { } secret && !UseBasicAuth) all.Add(new("client_secret", secret));

        using var request = new HttpRequestMessage(HttpMethod.Post, TokenEndpoint) { Content = Body(all) };
        request.Headers.Accept.ParseAdd("application/json");
        if (UseBasicAuth)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")));
        foreach (var (name, value) in Headers) request.Headers.TryAddWithoutValidation(name, value);

        // Provider text is echoed in messages; scrub anything secret we sent, in case an error answer repeats it.
        var secrets = all.Where(p => p.Key is "code" or "refresh_token" or "code_verifier" or "client_secret" or "device_code").Select(p => p.Value)
            .Where(v => v.Length >= 6).ToArray();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new OAuthException($"{operation} failed: cannot reach {Authority(TokenEndpoint)} ({e.HttpRequestError})", inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException($"{operation} failed: {Authority(TokenEndpoint)} did not answer in time", inner: e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonObject? body = null;
            try
            {
                body = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException)
            {
            }
            return new TokenAnswer((int)response.StatusCode, body, text.Length, Clock.GetUtcNow(), secrets);
        }
    }

    private HttpContent Body(List<KeyValuePair<string, string>> parameters)
    {
        if (Format == TokenBodyFormat.Form) return new FormUrlEncodedContent(parameters);
        var json = new JsonObject();
        foreach (var (name, value) in parameters) json[name] = value;
        return new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
    }

    private static string Authority(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : "the token endpoint";
}

/// <summary>A token endpoint's answer before interpretation.</summary>
internal sealed class TokenAnswer(int status, JsonObject? body, int length, DateTimeOffset receivedAt, string[] secrets)
{
    public int Status { get; } = status;
    public JsonObject? Body { get; } = body;
    public DateTimeOffset ReceivedAt { get; } = receivedAt;

    /// <summary>A 2xx JSON answer with an access token and no error.</summary>
    public bool IsSuccess => Status is >= 200 and < 300 && Error is null && Body?["access_token"] is JsonValue;

    /// <summary>The OAuth <c>error</c> code; also read from an <c>error</c> object's <c>type</c>/<c>code</c>.</summary>
    public string? Error => Body?["error"] switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonObject error => Str(error["type"]) ?? Str(error["code"]),
        _ => null,
    };

    public string? Description => Body?["error_description"] is JsonValue d ? Str(d)
        : Body?["error"] is JsonObject error ? Str(error["message"]) : Str(Body?["message"]);

    /// <summary>"HTTP 400: invalid_grant: description" with sent secrets scrubbed.</summary>
    public string Describe()
    {
        var text = new StringBuilder($"HTTP {Status}");
        if (Error is { } error) text.Append(": ").Append(OAuthRedirect.Clip(error));
        if (Description is { } description) text.Append(": ").Append(OAuthRedirect.Clip(description));
        if (Error is null && Description is null) text.Append(Body is null ? $" (a non-JSON answer of {length} characters)" : " (no error in the answer)");
        var result = text.ToString();
        foreach (var secret in secrets) result = result.Replace(secret, "[redacted]", StringComparison.Ordinal);
        return result;
    }

    private static string? Str(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } s ? s : null;
}
