using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Security;

namespace PluginProxy.Host.Proxying;

/// <summary>Writes JSON answers and errors in the client's dialect.</summary>
internal static class ErrorWriter
{
    public static Task WriteAsync(HttpContext http, ClientDialect client, int status, string message, string? code = null) =>
        WriteJsonAsync(http, status, client.Codec.EncodeError(status, message, code));

    /// <summary>
    /// An upstream failure: when the upstream speaks the client's dialect its JSON error body goes through verbatim
    /// (SDKs then see exactly what the provider said); otherwise the message is re-shaped into the client's dialect.
    /// </summary>
    public static async Task WriteUpstreamAsync(HttpContext http, ClientDialect client, UpstreamException failure, Dialect? upstreamDialect, SecretRedactor redactor)
    {
        if (failure.RetryAfter is { } retry && !http.Response.HasStarted)
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (upstreamDialect == client.Dialect && JsonText.TryParse(failure.Body) is JsonObject body && !redactor.Contains(failure.Body))
        {
            await WriteJsonAsync(http, failure.StatusCode, body);
            return;
        }
        await WriteAsync(http, client, failure.StatusCode, redactor.Redact(failure.Message));
    }

    /// <summary>Writes a JSON body; after keep-alive newlines committed the status, only the body can still go out.</summary>
    public static async Task WriteJsonAsync(HttpContext http, int status, JsonNode body)
    {
        if (!http.Response.HasStarted)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
        }
        JsonText.Write(http.Response.BodyWriter, body);
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }
}
