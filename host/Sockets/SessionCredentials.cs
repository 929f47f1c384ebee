using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Sockets;

/// <summary>
/// <see cref="IRuntimeCredentials"/> for one socket session, over the <see cref="CredentialStore"/>: what it adds is
/// published with the file and config credentials (so listed, scheduled and cooled like them), never written to disk,
/// and withdrawn when the session ends.
/// </summary>
internal sealed class SessionCredentials(CredentialStore store, string provider, IReadOnlyList<string> credentialTypes) : IRuntimeCredentials
{
    private readonly CredentialStore _store = store;
    private readonly Lock _gate = new();
    private readonly List<Handle> _handles = [];
    private bool _ended;

    public IDisposable Add(CredentialRecord credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (string.IsNullOrWhiteSpace(credential.Id)) throw new ArgumentException("A runtime credential needs an id.", nameof(credential));
        if (!credentialTypes.Contains(credential.Type, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"Credential type '{credential.Type}' is not one of {provider}'s credential types ({string.Join(", ", credentialTypes)}).", nameof(credential));
        var copy = HostOwned(credential);
        var handle = new Handle(this, copy.Id);
        // Under the gate, so an Add racing the session's end is either withdrawn by End or refused.
        lock (_gate)
        {
            if (_ended) throw new InvalidOperationException("The session has ended.");
            if (!_store.AddRuntime(copy, handle))
                throw new InvalidOperationException($"Credential id '{copy.Id}' is already used by a file or config credential.");
            _handles.Add(handle);
        }
        return handle;
    }

    /// <summary>Withdraws everything the session added (the ones another session has since replaced stay).</summary>
    public void End()
    {
        Handle[] handles;
        lock (_gate)
        {
            _ended = true;
            handles = [.. _handles];
        }
        foreach (var handle in handles) handle.Dispose();
    }

    // Collections a plugin built can be types of its own assembly (collection expressions): copy them so the published
    // snapshot never keeps a plugin's load context alive.
    private static CredentialRecord HostOwned(CredentialRecord credential) => credential with
    {
        Id = credential.Id.Trim(),
        Source = CredentialSource.Runtime,
        FilePath = null,
        Headers = new Dictionary<string, string>(credential.Headers, StringComparer.OrdinalIgnoreCase),
        Models = [.. credential.Models.Select(m => new ModelAlias(m.Name, m.Alias))],
        ExcludedModels = [.. credential.ExcludedModels],
        Metadata = credential.Metadata.ValueKind == System.Text.Json.JsonValueKind.Undefined ? default : credential.Metadata.Clone(),
    };

    private sealed class Handle(SessionCredentials owner, string id) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (owner._gate) owner._handles.Remove(this);
            owner._store.RemoveRuntime(id, this);
        }
    }
}
