using System.Collections.Immutable;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>The connected relay sessions by channel id (an immutable map swapped atomically; readers never lock).</summary>
internal sealed class RelayHub
{
    private ImmutableDictionary<string, RelaySession> _sessions = ImmutableDictionary<string, RelaySession>.Empty.WithComparers(StringComparer.Ordinal);

    public RelaySession? Find(string channel) => Volatile.Read(ref _sessions).GetValueOrDefault(channel);

    public int Count => Volatile.Read(ref _sessions).Count;

    /// <summary>
    /// Makes <paramref name="session"/> the one serving its channel and returns the session it replaced, if any; false
    /// when another client (a different client key) holds the channel, which it keeps: knowing a channel id must not be
    /// enough to take over the prompts routed to it.
    /// </summary>
    public bool TryInstall(RelaySession session, out RelaySession? replaced)
    {
        while (true)
        {
            var current = Volatile.Read(ref _sessions);
            current.TryGetValue(session.Channel, out var existing);
            if (existing is not null && !string.Equals(existing.Owner, session.Owner, StringComparison.Ordinal))
            {
                replaced = null;
                return false;
            }
            if (ReferenceEquals(Interlocked.CompareExchange(ref _sessions, current.SetItem(session.Channel, session), current), current))
            {
                replaced = existing;
                return true;
            }
        }
    }

    /// <summary>Removes <paramref name="session"/> unless a newer one has taken its channel.</summary>
    public void Remove(RelaySession session)
    {
        while (true)
        {
            var current = Volatile.Read(ref _sessions);
            if (!current.TryGetValue(session.Channel, out var existing) || !ReferenceEquals(existing, session)) return;
            if (ReferenceEquals(Interlocked.CompareExchange(ref _sessions, current.Remove(session.Channel), current), current)) return;
        }
    }
}
