using System.Collections.Immutable;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>The connected relay sessions by channel id (an immutable map swapped atomically; readers never lock).</summary>
internal sealed class RelayHub
{
    private ImmutableDictionary<string, RelaySession> _sessions = ImmutableDictionary<string, RelaySession>.Empty.WithComparers(StringComparer.Ordinal);

    public RelaySession? Find(string channel) => Volatile.Read(ref _sessions).GetValueOrDefault(channel);

    public int Count => Volatile.Read(ref _sessions).Count;

    /// <summary>Makes <paramref name="session"/> the one serving its channel; returns the session it replaced, if any.</summary>
    public RelaySession? Install(RelaySession session)
    {
        RelaySession? replaced = null;
        ImmutableInterlocked.AddOrUpdate(ref _sessions, session.Channel, session, (_, existing) =>
        {
            replaced = existing;
            return session;
        });
        return ReferenceEquals(replaced, session) ? null : replaced;
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
