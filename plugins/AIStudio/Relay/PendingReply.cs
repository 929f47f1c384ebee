using System.Threading.Channels;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// The replies to one <c>http_request</c>, in arrival order, bounded: the session's read loop never waits for a slow
/// reader (it must keep reading, or every other request and the keep-alive of the connection would stall), so a reader
/// more than <see cref="Capacity"/> messages behind fails its own request instead. Ends with the terminal message, or
/// with the session's failure.
/// </summary>
internal sealed class PendingReply(string id, Action<PendingReply> release) : IDisposable
{
    public const int Capacity = 1024;

    private readonly Channel<RelayMessage> _messages = Channel.CreateBounded<RelayMessage>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        SingleWriter = true,
    });
    private Exception? _failure;
    private int _disposed;

    public string Id { get; } = id;

    /// <summary>Called by the read loop. False when the reader fell too far behind (the request has then failed).</summary>
    public bool Deliver(RelayMessage message)
    {
        if (_messages.Writer.TryWrite(message))
        {
            if (message.IsTerminal) _messages.Writer.TryComplete();
            return true;
        }
        Fail(new RelayOverflowException(Capacity));
        return false;
    }

    /// <summary>Ends the reply with <paramref name="failure"/> after what was already delivered.</summary>
    public void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        _messages.Writer.TryComplete();
    }

    /// <summary>The next message; null after the terminal one; throws the failure when the reply broke off.</summary>
    public async ValueTask<RelayMessage?> NextAsync(CancellationToken cancellationToken)
    {
        while (await _messages.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_messages.Reader.TryRead(out var message)) return message;
        }
        if (Volatile.Read(ref _failure) is { } failure) throw failure;
        return null;
    }

    /// <summary>Stops listening: later messages for this id are dropped.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        release(this);
        _messages.Writer.TryComplete();
    }
}

/// <summary>The relay session ended (disconnect, replacement, server stop) while a request waited on it.</summary>
internal sealed class RelaySessionEndedException(string channel, string reason)
    : Exception($"The AI Studio relay disconnected: {reason}")
{
    public string Channel { get; } = channel;
    public string Reason { get; } = reason;
}

/// <summary>The proxy's client read the relayed answer too slowly.</summary>
internal sealed class RelayOverflowException(int capacity)
    : Exception($"the reader fell more than {capacity} relay messages behind; the answer was dropped");
