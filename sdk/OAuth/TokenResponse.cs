using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Sdk.OAuth;

/// <summary>A token endpoint's success answer. <see cref="ToString"/> never prints a token.</summary>
public sealed class TokenResponse
{
    private TokenResponse(JsonObject raw, DateTimeOffset receivedAt)
    {
        Raw = raw;
        AccessToken = Text(raw, "access_token") ?? throw new OAuthException("the token endpoint's answer has no access_token");
        RefreshToken = Text(raw, "refresh_token");
        IdToken = Text(raw, "id_token");
        TokenType = Text(raw, "token_type");
        Scope = Text(raw, "scope");
        if (raw["expires_in"] is JsonValue value && Seconds(value) is { } seconds and > 0)
        {
            ExpiresIn = TimeSpan.FromSeconds(seconds);
            ExpiresAt = receivedAt + ExpiresIn;
        }
    }

    public string AccessToken { get; }
    public string? RefreshToken { get; }
    public string? IdToken { get; }
    public string? TokenType { get; }
    public string? Scope { get; }
    public TimeSpan? ExpiresIn { get; }

    /// <summary>When the access token expires: the time of the answer (by the caller's clock) plus <see cref="ExpiresIn"/>.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>The whole answer, for provider fields (<c>account</c>, <c>resource_url</c>, ...).</summary>
    public JsonObject Raw { get; }

    /// <summary>Parses a success answer; throws <see cref="OAuthException"/> when it has no access token.</summary>
    public static TokenResponse Parse(JsonObject raw, DateTimeOffset receivedAt) => new(raw, receivedAt);

    public override string ToString() =>
        $"TokenResponse(type {TokenType ?? "?"}, refresh token {(RefreshToken is null ? "no" : "yes")}, id token {(IdToken is null ? "no" : "yes")}, expires {ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "unknown"})";

    private static string? Text(JsonObject raw, string name) =>
        raw[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    internal static double? Seconds(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.Number => value.GetValue<double>(),
        JsonValueKind.String when double.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) => s,
        _ => null,
    };
}
