namespace PluginProxy.Abstractions.Plugins;

/// <summary>One model a provider serves.</summary>
public sealed record ModelInfo(string Id)
{
    public string? DisplayName { get; init; }
    public string? Description { get; init; }
    public string OwnedBy { get; init; } = "";
    /// <summary>Unix seconds; used to order listings and to resolve <c>auto</c>.</summary>
    public long Created { get; init; }
    public int? InputTokenLimit { get; init; }
    public int? OutputTokenLimit { get; init; }
    public ThinkingSupport? Thinking { get; init; }
}

/// <summary>What reasoning controls a model accepts. Null on <see cref="ModelInfo"/> means unknown (applied unvalidated).</summary>
public sealed record ThinkingSupport
{
    public int? MinBudget { get; init; }
    public int? MaxBudget { get; init; }
    public bool ZeroAllowed { get; init; }
    public bool DynamicAllowed { get; init; }
    /// <summary>Supported effort levels, lowest first; empty for budget-only models.</summary>
    public IReadOnlyList<string> Levels { get; init; } = [];
    public static readonly ThinkingSupport None = new() { MaxBudget = 0 };
}
