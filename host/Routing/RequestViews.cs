using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PluginProxy.Host.Routing;

/// <summary>
/// A read-only string dictionary defined by a lookup and an enumeration of something it does not copy; the rest of
/// <see cref="IReadOnlyDictionary{TKey,TValue}"/> follows from those two.
/// </summary>
internal abstract class DictionaryView : IReadOnlyDictionary<string, string>
{
    public abstract bool TryGetValue(string key, out string value);

    public abstract IEnumerator<KeyValuePair<string, string>> GetEnumerator();

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no entry '{key}'");

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public int Count
    {
        get
        {
            var count = 0;
            foreach (var _ in this) count++;
            return count;
        }
    }

    public IEnumerable<string> Keys => this.Select(e => e.Key);

    public IEnumerable<string> Values => this.Select(e => e.Value);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// The request's headers as a routing plugin sees them, without copying: a router runs on every inference request and
/// most read one header or none. Case-insensitive like HTTP. A view of the live request, valid while the router runs
/// (<c>RouteContext</c> says so).
/// </summary>
internal sealed class HeaderView(IHeaderDictionary headers, HeaderView.Part part) : DictionaryView
{
    internal enum Part
    {
        /// <summary>Every header except the client's auth headers (<c>RouteContext.Headers</c>).</summary>
        WithoutAuth,

        /// <summary>Only the client's auth headers (<c>RouteContext.AuthHeaders</c>).</summary>
        OnlyAuth,
    }

    private bool Includes(string name) => ForwardingTransformer.IsClientAuthHeader(name) == (part == Part.OnlyAuth);

    public override bool TryGetValue(string key, out string value)
    {
        if (Includes(key) && headers.TryGetValue(key, out var values))
        {
            value = values.ToString();
            return true;
        }
        value = null!;
        return false;
    }

    public override IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (var (name, values) in headers)
            if (Includes(name)) yield return new(name, values.ToString());
    }
}

/// <summary>The string route values (<c>{provider}</c>, <c>{action}</c>) as a routing plugin sees them, without copying.</summary>
internal sealed class RouteValueView(RouteValueDictionary values) : DictionaryView
{
    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IReadOnlyDictionary<string, string> Of(RouteValueDictionary values) => values.Count == 0 ? Empty : new RouteValueView(values);

    public override bool TryGetValue(string key, out string value)
    {
        if (values.TryGetValue(key, out var raw) && raw is string text)
        {
            value = text;
            return true;
        }
        value = null!;
        return false;
    }

    public override IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (var (name, raw) in values)
            if (raw is string text) yield return new(name, text);
    }
}
