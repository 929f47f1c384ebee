using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Passthrough answers carry the model name a routing plugin says the client asked for (<c>RouteDecision.ResponseModel</c>,
/// set when a mapping rewrote the model), as translated answers do: <c>model</c>, <c>modelVersion</c>,
/// <c>response.model</c>, <c>response.modelVersion</c> and <c>message.model</c> are set to it, in a JSON body (read whole,
/// up to <see cref="MaxBufferedBody"/>; larger bodies pass unchanged) and in each SSE <c>data:</c> line (rewritten as the
/// line arrives, so streaming is kept). Only successful answers are touched; a line or body without those fields keeps
/// its bytes.
/// </summary>
internal static class PassthroughModelName
{
    internal const int MaxBufferedBody = 32 * 1024 * 1024;

    /// <summary>The body to relay: <paramref name="body"/> itself when there is nothing to rename.</summary>
    public static Stream Wrap(Stream body, string? responseModel, int status, bool sse)
    {
        if (string.IsNullOrEmpty(responseModel) || status is < 200 or > 299) return body;
        return sse ? new LineRewritingStream(body, line => RewriteDataLine(line, responseModel)) : new WholeBodyRewrite(body, responseModel);
    }

    /// <summary>One SSE line with its JSON payload renamed, or null to keep it as it is.</summary>
    internal static byte[]? RewriteDataLine(ReadOnlySpan<byte> line, string model)
    {
        if (!line.StartsWith("data:"u8)) return null;
        var prefix = line.Length > 5 && line[5] == (byte)' ' ? 6 : 5;
        var payload = line[prefix..];
        // Cheap test first: most events (text deltas) name no model and are never parsed.
        if (payload.IndexOf("\"model"u8) < 0 || Rewrite(payload, model) is not { } rewritten) return null;
        var result = new byte[prefix + rewritten.Length];
        line[..prefix].CopyTo(result);
        rewritten.CopyTo(result.AsSpan(prefix));
        return result;
    }

    /// <summary>The JSON document (an object, or an array of objects) renamed, or null when it names no other model.</summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> json, string model)
    {
        try
        {
            var root = JsonNode.Parse(json);
            var changed = root switch
            {
                JsonObject obj => Rename(obj, model),
                JsonArray array => array.OfType<JsonObject>().Aggregate(false, (any, obj) => Rename(obj, model) | any),
                _ => false,
            };
            return changed ? JsonText.SerializeToUtf8(root) : null;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return null; // not JSON, or duplicated keys: relay as it came
        }
    }

    private static bool Rename(JsonObject obj, string model)
    {
        var changed = Set(obj, "model", model) | Set(obj, "modelVersion", model);
        if (obj["response"] is JsonObject response) changed |= Set(response, "model", model) | Set(response, "modelVersion", model);
        if (obj["message"] is JsonObject message) changed |= Set(message, "model", model);
        return changed;
    }

    private static bool Set(JsonObject obj, string key, string model)
    {
        if (obj[key] is not JsonValue value || !value.TryGetValue<string>(out var current) || current == model) return false;
        obj[key] = model;
        return true;
    }

    /// <summary>Reads the whole body on the first read (upstream failures surface there, before anything was sent), then yields it renamed.</summary>
    private sealed class WholeBodyRewrite(Stream inner, string model) : ReadOnlyWrappingStream(inner)
    {
        private ReadOnlyMemory<byte> _pending;
        private bool _buffered;
        private bool _passing; // the body was too large to buffer: the rest flows through unchanged

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_buffered)
            {
                await BufferAsync(cancellationToken).ConfigureAwait(false);
                _buffered = true;
            }
            if (!_pending.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _pending.Length);
                _pending[..n].CopyTo(buffer);
                _pending = _pending[n..];
                return n;
            }
            return _passing ? await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) : 0;
        }

        private async Task BufferAsync(CancellationToken cancellationToken)
        {
            var collected = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await Inner.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                collected.Write(chunk, 0, read);
                if (collected.Length > MaxBufferedBody)
                {
                    _pending = collected.GetBuffer().AsMemory(0, (int)collected.Length);
                    _passing = true;
                    return;
                }
            }
            var body = collected.GetBuffer().AsMemory(0, (int)collected.Length);
            _pending = Rewrite(body.Span, model) ?? body;
        }
    }
}
