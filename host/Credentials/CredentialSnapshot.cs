using System.Collections.Frozen;
using System.Collections.Immutable;
using PluginProxy.Abstractions.Credentials;

namespace PluginProxy.Host.Credentials;

/// <summary>Every known credential at one moment (files and config), sorted by id. Immutable.</summary>
internal sealed class CredentialSnapshot
{
    public static readonly CredentialSnapshot Empty = new([], 0);

    public CredentialSnapshot(IEnumerable<CredentialRecord> records, long revision)
    {
        All = [.. records.OrderBy(r => r.Id, StringComparer.Ordinal)];
        ById = All.ToFrozenDictionary(r => r.Id, StringComparer.Ordinal);
        Revision = revision;
    }

    public ImmutableArray<CredentialRecord> All { get; }
    public FrozenDictionary<string, CredentialRecord> ById { get; }
    public long Revision { get; }
}
