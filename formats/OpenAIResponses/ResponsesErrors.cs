using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>OpenAI's error vocabulary, for error bodies and for the stream's error events.</summary>
internal static class ResponsesErrors
{
    public static string TypeFor(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    /// <summary>The machine-readable code a stream error carries; Codex keys its retry and quota handling on these.</summary>
    public static string CodeFor(int status) => status switch
    {
        401 => "invalid_api_key",
        403 => "permission_denied",
        404 => "model_not_found",
        429 => "rate_limit_exceeded",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static JsonObject Body(int status, string message, string? code) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = TypeFor(status),
            ["param"] = null,
            ["code"] = code,
        },
    };

    /// <summary>An upstream <c>error</c> event or failed response, as the exception the host reports to the client.</summary>
    public static UpstreamException Failure(JsonNode? error, JsonNode? body)
    {
        var message = Lenient.String(error?["message"]) ?? Lenient.String(body?["message"]) ?? "upstream response failed";
        return new UpstreamException(FailureKind.Transient, 502, message, body is null ? null : JsonText.Serialize(body));
    }
}
