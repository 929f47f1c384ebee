using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Sdk.OAuth;

/// <summary>What a provider's device-code login (RFC 8628) needs.</summary>
public sealed class DeviceCodeRequest
{
    public required string DeviceAuthorizationEndpoint { get; init; }
    public required string TokenEndpoint { get; init; }
    public required string ClientId { get; init; }

    /// <summary>Space-separated scopes; null leaves <c>scope</c> out.</summary>
    public string? Scope { get; init; }

    /// <summary>Sends an S256 challenge with the device request and the verifier with each poll (Qwen).</summary>
    public bool UsePkce { get; init; }

    public string DisplayName { get; init; } = "the provider";

    /// <summary>Further parameters for the device request.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraParameters { get; init; } = [];

    /// <summary>Headers for both endpoints (Kimi's device headers).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The poll interval when the provider names none (RFC 8628: 5 s).</summary>
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>The device authorization answer. <see cref="ToString"/> never prints the device code.</summary>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, string VerificationUri, string? VerificationUriComplete,
    TimeSpan? ExpiresIn, TimeSpan Interval, JsonObject Raw)
{
    public override string ToString() => $"DeviceAuthorization(user code {UserCode}, {VerificationUri})";
}

/// <summary>
/// The device-code login (RFC 8628): request a device code, show the verification URL and user code (opening the browser
/// unless <see cref="LoginContext.NoBrowser"/>), then poll the token endpoint at the provider's interval until the user
/// approves. Waits run on <see cref="LoginContext.Clock"/>.
/// </summary>
public static class DeviceCodeFlow
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    // RFC 8628 §3.5: every slow_down adds 5 seconds to the interval for this and all later polls.
    private static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(30);

    /// <summary>Runs the whole login and returns the tokens. Throws <see cref="OAuthException"/> with a clear message on failure.</summary>
    public static async Task<TokenResponse> RunAsync(LoginContext context, DeviceCodeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var pkce = request.UsePkce ? Pkce.Create() : null;
        var device = await RequestCodeAsync(context, request, pkce, cancellationToken).ConfigureAwait(false);

        var output = context.Output;
        await output.WriteLineAsync($"To log in to {request.DisplayName}, open {device.VerificationUri} and enter the code {device.UserCode}").ConfigureAwait(false);
        if (device.VerificationUriComplete is { } complete && complete != device.VerificationUri)
            await output.WriteLineAsync($"(or open {complete}, which fills the code in)").ConfigureAwait(false);
        if (!context.NoBrowser && context.OpenBrowser?.Invoke(device.VerificationUriComplete ?? device.VerificationUri) != true)
            await output.WriteLineAsync("Could not open a browser; open the URL above yourself.").ConfigureAwait(false);

        return await PollAsync(context, request, device, pkce?.Verifier, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Step 1: the device authorization request (form body).</summary>
    public static async Task<DeviceAuthorization> RequestCodeAsync(LoginContext context, DeviceCodeRequest request, PkcePair? pkce,
        CancellationToken cancellationToken)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (request.Scope is { } scope) parameters.Add(new("scope", scope));
        if (pkce is not null)
        {
            parameters.Add(new("code_challenge", pkce.Challenge));
            parameters.Add(new("code_challenge_method", PkcePair.Method));
        }
        parameters.AddRange(request.ExtraParameters);
        var client = new OAuthTokenClient(request.DeviceAuthorizationEndpoint, request.ClientId) { Headers = request.Headers, Clock = context.Clock };
        var answer = await client.SendAsync(context.Http, parameters, "device code request", cancellationToken).ConfigureAwait(false);
        var body = answer.Body;
        if (answer.Status is < 200 or >= 300 || answer.Error is not null || body is null)
            throw new OAuthException($"device code request failed: {answer.Describe()}", answer.Status, answer.Error);
        var deviceCode = Text(body, "device_code");
        var userCode = Text(body, "user_code");
        // Google names it verification_url.
        var verification = Text(body, "verification_uri") ?? Text(body, "verification_url");
        if (deviceCode is null || userCode is null || verification is null)
            throw new OAuthException("device code request failed: the answer lacks device_code, user_code or verification_uri", answer.Status);
        var expires = body["expires_in"] is JsonValue e && TokenResponse.Seconds(e) is { } es and > 0 ? TimeSpan.FromSeconds(es) : (TimeSpan?)null;
        var interval = body["interval"] is JsonValue i && TokenResponse.Seconds(i) is { } iv and > 0 ? TimeSpan.FromSeconds(iv) : request.DefaultInterval;
        return new DeviceAuthorization(deviceCode, userCode, verification, Text(body, "verification_uri_complete"), expires, interval, body);
    }

    /// <summary>
    /// Step 2: polls until the user approves. <c>authorization_pending</c> keeps polling, <c>slow_down</c> adds 5 s to
    /// the interval, <c>expired_token</c>, <c>access_denied</c> and anything else fail; so does reaching the code's
    /// expiry or <see cref="LoginContext.Timeout"/>, whichever is sooner.
    /// </summary>
    public static async Task<TokenResponse> PollAsync(LoginContext context, DeviceCodeRequest request, DeviceAuthorization device, string? codeVerifier,
        CancellationToken cancellationToken)
    {
        var clock = context.Clock;
        var started = clock.GetUtcNow();
        var lifetime = device.ExpiresIn is { } expires && expires < context.Timeout ? expires : context.Timeout;
        var deadline = started + lifetime;
        var interval = device.Interval;
        var lastProgress = DateTimeOffset.MinValue;
        var client = new OAuthTokenClient(request.TokenEndpoint, request.ClientId) { Headers = request.Headers, Clock = clock };
        var parameters = new List<KeyValuePair<string, string>> { new("grant_type", GrantType), new("device_code", device.DeviceCode) };
        if (codeVerifier is not null) parameters.Add(new("code_verifier", codeVerifier));

        while (true)
        {
            if (clock.GetUtcNow() + interval > deadline) throw Expired();
            await Task.Delay(interval, clock, cancellationToken).ConfigureAwait(false);
            var answer = await client.SendAsync(context.Http, parameters, "device token poll", cancellationToken).ConfigureAwait(false);
            if (answer.IsSuccess) return TokenResponse.Parse(answer.Body!, answer.ReceivedAt);
            switch (answer.Error)
            {
                case "authorization_pending":
                    break;
                case "slow_down":
                    interval += SlowDownStep;
                    break;
                case "expired_token":
                    throw new OAuthException($"the {request.DisplayName} device code expired before it was approved; run login again", answer.Status, answer.Error);
                case "access_denied":
                    throw new OAuthException($"the {request.DisplayName} login was denied in the browser (access_denied)", answer.Status, answer.Error);
                default:
                    throw new OAuthException($"device token poll failed: {answer.Describe()}", answer.Status, answer.Error);
            }
            var now = clock.GetUtcNow();
            if (now - lastProgress >= ProgressEvery)
            {
                lastProgress = now;
                var left = deadline - now;
                await context.Output.WriteLineAsync(
                    $"Waiting for approval of code {device.UserCode} ... {(int)Math.Max(0, left.TotalMinutes)}:{Math.Max(0, left.Seconds).ToString("00", CultureInfo.InvariantCulture)} left")
                    .ConfigureAwait(false);
            }
        }

        OAuthException Expired() => new($"the {request.DisplayName} device code was not approved within {AuthorizationCodeFlow.Describe(lifetime)}; run login again");
    }

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;
}
