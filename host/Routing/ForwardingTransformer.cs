using System.Text;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Plugins;
using Yarp.ReverseProxy.Forwarder;

namespace PluginProxy.Host.Routing;

/// <summary>
/// Shapes the outgoing request of a forwarding route: the client's headers are copied (YARP's base transformer), then
/// the client's own auth headers and the proxy's <c>?key=</c> / <c>?auth_token=</c> are dropped (they are this proxy's
/// keys, not the upstream's), then the plugin's removals and settings apply (so a plugin may set an upstream
/// <c>Authorization</c>). The Host header becomes the destination's.
/// </summary>
internal sealed class ForwardingTransformer : HttpTransformer
{
    internal static readonly string[] ClientAuthHeaders = ["authorization", "x-api-key", "x-goog-api-key"];

    internal static bool IsClientAuthHeader(string name)
    {
        foreach (var auth in ClientAuthHeaders)
            if (name.Equals(auth, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
    private static readonly string[] ClientAuthQuery = ["key", "auth_token"];

    private readonly KeyValuePair<string, string>[] _set;
    private readonly string[] _remove;
    private readonly HashSet<string> _removeQuery;

    /// <summary>Copies what it needs from the decision (the plugin's collections are not kept).</summary>
    public ForwardingTransformer(ForwardingDecision decision)
    {
        _set = [.. (decision.SetHeaders ?? new Dictionary<string, string>()).Where(h => !string.IsNullOrWhiteSpace(h.Key) && h.Value is not null)];
        _remove = [.. ClientAuthHeaders, .. (decision.RemoveHeaders ?? []).Where(h => !string.IsNullOrWhiteSpace(h))];
        _removeQuery = new HashSet<string>([.. ClientAuthQuery, .. (decision.RemoveQuery ?? []).Where(q => !string.IsNullOrEmpty(q))], StringComparer.OrdinalIgnoreCase);
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.Headers.Host = null;
        foreach (var name in _remove) Remove(proxyRequest, name);
        foreach (var (name, value) in _set)
        {
            Remove(proxyRequest, name);
            if (!proxyRequest.Headers.TryAddWithoutValidation(name, value)) proxyRequest.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, httpContext.Request.Path, FilterQuery(httpContext.Request.QueryString, _removeQuery));
    }

    /// <summary>The query without the named parameters; the others keep their exact encoding and order.</summary>
    internal static QueryString FilterQuery(QueryString query, IReadOnlySet<string> remove)
    {
        if (!query.HasValue) return query;
        var kept = new StringBuilder();
        foreach (var part in query.Value!.TrimStart('?').Split('&'))
        {
            if (part.Length == 0) continue;
            var equals = part.IndexOf('=');
            var name = Uri.UnescapeDataString((equals >= 0 ? part[..equals] : part).Replace('+', ' '));
            if (remove.Contains(name)) continue;
            kept.Append(kept.Length == 0 ? '?' : '&').Append(part);
        }
        return kept.Length == 0 ? QueryString.Empty : QueryString.FromUriComponent(kept.ToString());
    }

    private static void Remove(HttpRequestMessage request, string name)
    {
        try
        {
            request.Headers.Remove(name);
        }
        catch (InvalidOperationException)
        {
            request.Content?.Headers.Remove(name); // a content header (Content-Type, ...)
        }
        catch (FormatException)
        {
            // Not a valid header name: nothing by that name was copied.
        }
    }
}
