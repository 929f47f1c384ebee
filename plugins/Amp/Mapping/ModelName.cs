namespace PluginProxy.Plugins.Amp.Mapping;

/// <summary>
/// A model split at a trailing thinking suffix, <c>gpt-5(high)</c> → <c>gpt-5</c> + <c>high</c>. Any non-empty
/// parenthesised tail counts: the mapping only carries it over, the host decides what it means.
/// </summary>
internal readonly record struct ModelName(string Base, string? Suffix)
{
    public static ModelName Parse(string model)
    {
        model = model.Trim();
        var open = model.LastIndexOf('(');
        if (open <= 0 || !model.EndsWith(')')) return new ModelName(model, null);
        var suffix = model[(open + 1)..^1].Trim();
        return new ModelName(model[..open].TrimEnd(), suffix.Length == 0 ? null : suffix);
    }

    public override string ToString() => Suffix is null ? Base : $"{Base}({Suffix})";
}
