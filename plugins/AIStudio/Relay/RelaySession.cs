using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// One connected relay client. A single read loop dispatches replies to the waiting requests by id and answers
/// <c>ping</c> with <c>pong</c>; writes take turns and time out after 10 s. Liveness is the host's WebSocket keep-alive
/// (a ping every 30 s, the pong due within 30 s: a silent peer is cut within 60 s), which works because a receive is
/// always pending. When the session ends, for whatever reason, every pending request fails with
/// <see cref="RelaySessionEndedException"/>: nothing waits forever.
/// </summary>
internal sealed class RelaySession(string channel, WebSocket socket, IPluginLog log, string? owner = null)
{
    /// <summary>A hash of the client key the session connected with (null without one); only the same owner may replace it.</summary>
    public string? Owner { get; } = owner;

    /// <summary>The largest frame accepted from a relay client (CLIProxyAPI's limit).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, PendingReply> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Channel { get; } = channel;

    /// <summary>True once the session has ended; its pending requests have failed.</summary>
    public bool HasEnded => _ended.Task.IsCompleted;

    public int PendingCount => _pending.Count;

    /// <summary>Registers a request id; throws <see cref="RelaySessionEndedException"/> when the session has ended.</summary>
    public PendingReply Begin(string id)
    {
        var pending = new PendingReply(id, p => _pending.TryRemove(new KeyValuePair<string, PendingReply>(p.Id, p)));
        if (!_pending.TryAdd(id, pending)) throw new InvalidOperationException($"duplicate relay request id {id}");
        // Checked after adding: End either sees this request or this check sees the end.
        if (_ended.Task.IsCompleted)
        {
            pending.Dispose();
            throw new RelaySessionEndedException(Channel, _ended.Task.Result);
        }
        return pending;
    }

    /// <summary>Sends one frame. Only the write timeout cancels the send: cancelling a WebSocket send aborts the connection.</summary>
    public async Task SendAsync(RelayMessage message, CancellationToken cancellationToken)
    {
        var bytes = message.ToUtf8();
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ended.Task.IsCompleted) throw new RelaySessionEndedException(Channel, _ended.Task.Result);
            using var timeout = new CancellationTokenSource(WriteTimeout);
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException && !cancellationToken.IsCancellationRequested)
        {
            End("the write failed or timed out");
            throw new RelaySessionEndedException(Channel, "the write failed or timed out");
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Reads until the peer leaves, the connection breaks or <paramref name="stop"/> fires; then ends the session.
    /// Returns why it ended. On <paramref name="stop"/> the pending receive is left to the host, which closes the socket.
    /// </summary>
    public async Task<string> RunAsync(CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = stop.Register(() => stopped.TrySetResult());
        string reason;
        try
        {
            while (true)
            {
                var receive = socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask();
                if (await Task.WhenAny(receive, stopped.Task, _ended.Task).ConfigureAwait(false) != receive)
                {
                    _ = receive.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // observed; the host closes the socket
                    reason = _ended.Task.IsCompleted ? _ended.Task.Result : "the server ended the session";
                    break;
                }
                var result = await receive.ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    reason = "the relay client closed the connection";
                    break;
                }
                if (message.WrittenCount + result.Count > MaxMessageBytes)
                {
                    reason = "a frame exceeded 64 MiB";
                    socket.Abort();
                    break;
                }
                message.Write(buffer.AsSpan(0, result.Count));
                if (!result.EndOfMessage) continue;
                var parsed = RelayMessage.Parse(message.WrittenSpan);
                message.ResetWrittenCount();
                if (parsed is null)
                {
                    log.Debug("AI Studio relay {Channel}: ignored a frame that is not a relay message", Channel);
                    continue;
                }
                await DispatchAsync(parsed).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or RelaySessionEndedException)
        {
            reason = "the connection broke (" + e.GetType().Name + ")";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        End(reason);
        return _ended.Task.Result;
    }

    private async Task DispatchAsync(RelayMessage message)
    {
        if (message.Type == RelayMessage.Ping)
        {
            await SendAsync(new RelayMessage(message.Id, RelayMessage.Pong, null), CancellationToken.None).ConfigureAwait(false);
            return;
        }
        if (!_pending.TryGetValue(message.Id, out var pending))
        {
            if (message.IsTerminal) log.Debug("AI Studio relay {Channel}: reply for unknown or abandoned request {Id}", Channel, message.Id);
            return;
        }
        if (!pending.Deliver(message) || message.IsTerminal) pending.Dispose();
    }

    /// <summary>Ends the session once: every pending request fails with the reason; later requests are refused.</summary>
    public void End(string reason)
    {
        if (!_ended.TrySetResult(reason)) return;
        foreach (var pending in _pending.Values) pending.Fail(new RelaySessionEndedException(Channel, reason));
        _pending.Clear();
    }
}
