using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Reads and checks an inference request: the size limit (<c>max-body-size-mb</c>), a JSON object without duplicated
/// keys, a model, the stream flag. Any problem is answered with a 4xx in the client's dialect and null is returned.
/// The body is read into a pooled buffer that goes back to the pool when the response completes.
/// </summary>
internal static class RequestReader
{
    // Duplicated keys are refused at parse time: a lazily parsed DOM would throw later, outside the error mapping.
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    public static async Task<ProxyRequest?> ReadAsync(HttpContext http, InferenceRequest endpoint, LoadedConfig config)
    {
        var client = endpoint.Client;
        var body = await ReadBodyAsync(http, client, config.Config.MaxBodySizeMb);
        if (body is null) return null;
        JsonDocument document;
        string? bodyModel;
        bool bodyStream;
        try
        {
            (document, bodyModel, bodyStream) = Scan(body.Value);
        }
        catch (JsonException e)
        {
            await ErrorWriter.WriteAsync(http, client, 400, $"Malformed JSON in request body: {FirstLine(e.Message)}");
            return null;
        }
        // A translated attempt decodes from this index instead of parsing the body again; it is pooled, returned at the end.
        http.Response.RegisterForDispose(document);
        var model = endpoint.UrlModel ?? bodyModel;
        if (string.IsNullOrWhiteSpace(model))
        {
            await ErrorWriter.WriteAsync(http, client, 400, "The request has no model. Set \"model\" to one of the ids GET /v1/models lists.");
            return null;
        }
        var stream = endpoint.Operation != Operation.CountTokens && (endpoint.UrlStream ?? bodyStream);
        return new ProxyRequest(http, endpoint, config, body.Value, document, model, stream);
    }

    /// <summary>
    /// Checks the body (one JSON object, no duplicated keys at any depth, the default depth limit) and reads its top-level
    /// model and stream flag, without building a DOM. The document (a pooled index over the caller's bytes) is the
    /// caller's to dispose. Throws <see cref="JsonException"/> with the parser's message.
    /// </summary>
    internal static (JsonDocument Document, string? Model, bool Stream) Scan(ReadOnlyMemory<byte> body)
    {
        var document = JsonDocument.Parse(body, Strict);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new JsonException("the body is not a JSON object");
        }
        var model = root.TryGetProperty("model"u8, out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var stream = root.TryGetProperty("stream"u8, out var s) && s.ValueKind == JsonValueKind.True;
        return (document, model, stream);
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext http, ClientDialect client, int limitMb)
    {
        var limit = (long)limitMb * 1024 * 1024;
        if (http.Request.ContentLength > limit)
        {
            await TooLargeAsync(http, client, limitMb);
            return null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp((http.Request.ContentLength ?? 16 * 1024) + 1, 1024, limit + 1));
        var length = 0;
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted)) > 0)
            {
                length += read;
                if (length > limit)
                {
                    await TooLargeAsync(http, client, limitMb);
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        http.Response.RegisterForDispose(new Returned(buffer));
        if (length == 0)
        {
            await ErrorWriter.WriteAsync(http, client, 400, "The request body is empty; a JSON object is required.");
            return null;
        }
        return buffer.AsMemory(0, length);
    }

    private static Task TooLargeAsync(HttpContext http, ClientDialect client, int limitMb) =>
        ErrorWriter.WriteAsync(http, client, 413, $"The request body is larger than the {limitMb} MiB limit (max-body-size-mb).");

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }

    private sealed class Returned(byte[] buffer) : IDisposable
    {
        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}
