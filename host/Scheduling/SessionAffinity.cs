using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Host.Scheduling;

/// <summary>What the affinity table holds now, for the management API's credential status.</summary>
/// <param name="Count">Live bindings.</param>
/// <param name="PerCredential">Live bindings per credential id.</param>
internal sealed record AffinityView(int Count, IReadOnlyDictionary<string, int> PerCredential);

/// <summary>
/// <c>routing.session-affinity</c>: which credential each conversation is bound to, per model. An LRU of at most
/// <see cref="Capacity"/> bindings, each dropped once unused for the TTL (<c>routing.session-affinity-ttl</c>, passed
/// per call so a reload applies at once). Keys are 128-bit hashes of (model, session), so an entry's size does not
/// depend on what clients send. One lock: every operation is a dictionary lookup and a list splice.
/// </summary>
/// <param name="countPerCredential">False when the values are not credentials (<see cref="Scheduler.ResponseChains"/>):
/// nothing is counted per value then.</param>
internal sealed class SessionAffinity(TimeProvider clock, int capacity = SessionAffinity.DefaultCapacity, bool countPerCredential = true)
{
    public const int DefaultCapacity = 50_000;

    private sealed class Entry(UInt128 key, string credential, DateTimeOffset lastUsed)
    {
        public UInt128 Key { get; } = key;
        public string Credential { get; set; } = credential;
        public DateTimeOffset LastUsed { get; set; } = lastUsed;
    }

    private readonly Dictionary<UInt128, LinkedListNode<Entry>> _index = [];
    private readonly LinkedList<Entry> _order = new(); // most recently used first
    private readonly Dictionary<string, int> _perCredential = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public int Capacity { get; } = capacity > 0 ? capacity : DefaultCapacity;

    /// <summary>The credential <paramref name="session"/> is bound to for <paramref name="model"/>, if the binding is alive; using it renews it.</summary>
    public string? BoundTo(string model, string session, TimeSpan ttl)
    {
        var key = Key(model, session);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            Expire(now, ttl);
            if (!_index.TryGetValue(key, out var node)) return null;
            node.Value.LastUsed = now;
            MoveToFront(node);
            return node.Value.Credential;
        }
    }

    /// <summary>Binds (or rebinds) a session to the credential that just served it.</summary>
    public void Bind(string model, string session, string credential, TimeSpan ttl)
    {
        var key = Key(model, session);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            Expire(now, ttl);
            if (_index.TryGetValue(key, out var node))
            {
                if (node.Value.Credential != credential)
                {
                    Count(node.Value.Credential, -1);
                    node.Value.Credential = credential;
                    Count(credential, +1);
                }
                node.Value.LastUsed = now;
                MoveToFront(node);
                return;
            }
            while (_index.Count >= Capacity && _order.Last is { } oldest) Remove(oldest);
            _index[key] = _order.AddFirst(new Entry(key, credential, now));
            Count(credential, +1);
        }
    }

    /// <summary>Live bindings in total and per credential.</summary>
    public AffinityView View(TimeSpan ttl)
    {
        lock (_gate)
        {
            Expire(clock.GetUtcNow(), ttl);
            return new AffinityView(_index.Count, new Dictionary<string, int>(_perCredential, StringComparer.Ordinal));
        }
    }

    /// <summary>Drops every binding (a credential reset, tests).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _index.Clear();
            _order.Clear();
            _perCredential.Clear();
        }
    }

    // The list is in order of last use, so expired entries are all at its end.
    private void Expire(DateTimeOffset now, TimeSpan ttl)
    {
        while (_order.Last is { } oldest && now - oldest.Value.LastUsed >= ttl) Remove(oldest);
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _index.Remove(node.Value.Key);
        Count(node.Value.Credential, -1);
    }

    private void MoveToFront(LinkedListNode<Entry> node)
    {
        if (node == _order.First) return;
        _order.Remove(node);
        _order.AddFirst(node);
    }

    private void Count(string credential, int delta)
    {
        if (!countPerCredential) return;
        var n = _perCredential.GetValueOrDefault(credential) + delta;
        if (n <= 0) _perCredential.Remove(credential);
        else _perCredential[credential] = n;
    }

    private static UInt128 Key(string model, string session)
    {
        Span<byte> hash = stackalloc byte[32];
        var text = model + "\n" + session;
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var buffer = max <= 1024 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(text, buffer);
        SHA256.HashData(buffer[..length], hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
