using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Management;

/// <summary>A JSON answer of the management API (CLIProxyAPI's shapes: <c>{"status":"ok"}</c>, <c>{"error":"..."}</c>).</summary>
internal sealed class Reply(int status, JsonNode body) : IResult
{
    public int Status => status;

    public Task ExecuteAsync(HttpContext http) => ErrorWriter.WriteJsonAsync(http, status, body);

    public static Reply Ok() => new(200, new JsonObject { ["status"] = "ok" });

    public static Reply Json(JsonNode body, int status = 200) => new(status, body);

    public static Reply Error(int status, string message) => new(status, new JsonObject { ["error"] = message });

    public static Reply BadRequest(string message) => Error(400, message);

    public static Reply NotFound(string message) => Error(404, message);

    /// <summary>
    /// The raw request body, refused with a 413 as soon as it passes <paramref name="maxBytes"/> (checked while
    /// reading: the server sets no global body limit, and a huge body must not be buffered first).
    /// </summary>
    public static async Task<(byte[]? Bytes, Reply? Error)> ReadBytesAsync(HttpContext http, int maxBytes)
    {
        var tooLarge = Error(413, $"body larger than {Describe(maxBytes)}");
        if (http.Request.ContentLength > maxBytes) return (null, tooLarge);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes) return (null, tooLarge);
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), null);
    }

    private static string Describe(int bytes) => bytes >= 1024 * 1024 ? $"{bytes / 1024 / 1024} MiB" : $"{bytes / 1024} KiB";

    /// <summary>The request body as JSON, or a 400 naming what is wrong (413 when too large).</summary>
    public static async Task<(JsonNode? Body, Reply? Error)> ReadBodyAsync(HttpContext http, int maxBytes = 4 * 1024 * 1024)
    {
        var (bytes, tooLarge) = await ReadBytesAsync(http, maxBytes);
        if (tooLarge is not null) return (null, tooLarge);
        if (bytes!.Length == 0) return (null, BadRequest("invalid body: empty"));
        try
        {
            return (JsonNode.Parse(bytes), null);
        }
        catch (JsonException e)
        {
            return (null, BadRequest($"invalid body: not JSON ({e.Message})"));
        }
    }

    /// <summary>The <c>value</c> of a <c>{"value": ...}</c> body, or a 400.</summary>
    public static async Task<(JsonNode? Value, Reply? Error)> ReadValueAsync(HttpContext http)
    {
        var (body, error) = await ReadBodyAsync(http);
        if (error is not null) return (null, error);
        if (body is not JsonObject obj || !obj.ContainsKey("value")) return (null, BadRequest("invalid body: expected {\"value\": ...}"));
        return (obj["value"], null);
    }
}
