using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace PluginProxy.Host.Upstream;

/// <summary>
/// Headers that cross the proxy because the operator asked: <c>passthrough-headers</c> copies a successful upstream
/// answer's headers to the client, minus hop-by-hop, cookies, framing and the proxy's own; a configured header value
/// <c>$Name</c> is the client's <c>Name</c> header.
/// </summary>
internal static class PassthroughHeaders
{
    private static readonly HashSet<string> Blocked = new(StringComparer.OrdinalIgnoreCase)
    {
        // hop-by-hop (RFC 9110 7.6.1)
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        // never a client's business
        "Set-Cookie", "Set-Cookie2", "WWW-Authenticate",
        // framing and encoding are the proxy's own (it may translate and re-encode the body)
        "Content-Length", "Content-Encoding", "Content-Type", "Content-Range",
        // the proxy's own connection
        "Date", "Server", "Via", "Alt-Svc", "Strict-Transport-Security",
    };

    /// <summary>The value to send for a configured header: itself, the client's header for <c>$Name</c>, or null to leave it out.</summary>
    public static string? ClientValue(string configured, IHeaderDictionary? client)
    {
        if (configured.Length < 2 || configured[0] != '$') return configured;
        if (client is null || !client.TryGetValue(configured[1..], out var value)) return null;
        var text = value.ToString();
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    /// <summary>Copies the upstream response's allowed headers to the client's response, if it has not started yet, noting what it replaced.</summary>
    private static void Copy(HttpResponseMessage upstream, HttpResponse client, List<(string Name, StringValues Previous)> written)
    {
        if (client.HasStarted) return;
        foreach (var (name, values) in upstream.Headers.Concat(upstream.Content.Headers))
        {
            if (Blocked.Contains(name)) continue;
            // The proxy's request id (the one in its log) stays; the upstream's travels under its own name, as in passthrough.
            var target = name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase) ? "X-Upstream-Request-Id" : name;
            written.Add((target, client.Headers.TryGetValue(target, out var previous) ? previous : StringValues.Empty));
            client.Headers[target] = new StringValues([.. values]);
        }
    }

    /// <summary>
    /// One attempt's copies: an attempt whose answer fails before its first byte takes its headers back, so only the
    /// attempt that serves the client (another credential, after failover) leaves headers on the client's response.
    /// </summary>
    internal sealed class AttemptCopy(HttpResponse client)
    {
        private readonly List<(string Name, StringValues Previous)> _written = [];

        public void From(HttpResponseMessage upstream) => Copy(upstream, client, _written);

        /// <summary>Restores what this attempt overwrote (latest first), unless the response already started.</summary>
        public void Undo()
        {
            if (client.HasStarted) return;
            for (var i = _written.Count - 1; i >= 0; i--)
            {
                var (name, previous) = _written[i];
                if (StringValues.IsNullOrEmpty(previous)) client.Headers.Remove(name);
                else client.Headers[name] = previous;
            }
            _written.Clear();
        }
    }
}
