using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;

namespace PluginProxy.Tests.Host.Models;

public sealed class ModelRegistryTests
{
    private sealed class Catalog(params string[] ids) : IProviderPlugin
    {
        public string Id => "p";
        public IReadOnlyList<string> CredentialTypes { get; } = ["p"];
        public Dialect NativeDialect => Dialect.OpenAIChat;
        public IReadOnlyList<ModelInfo> Models { get; } = [.. ids.Select(i => new ModelInfo(i))];
        public IExecutor Executor => throw new NotSupportedException();
        public IAuthenticator? Authenticator => null;
    }

    private static readonly Catalog Provider = new("gpt-5", "gpt-5-mini", "gemini-2.5-pro", "claude-opus");

    private static CredentialRecord File(string? prefix = null) =>
        new() { Id = "f.json", Type = "p", Provider = "p", Label = "f", Source = CredentialSource.File, Prefix = prefix };

    private static CredentialRecord Key(ModelAlias[]? models = null, string[]? excluded = null, string? prefix = null) =>
        new() { Id = "k", Type = "p", Provider = "p", Label = "k", Source = CredentialSource.Config, Models = models ?? [], ExcludedModels = excluded ?? [], Prefix = prefix };

    private static List<string> Served(CredentialRecord credential, ProxyConfig? config = null) =>
        [.. ModelRegistry.ModelsOf(credential, Provider.Models, config ?? new ProxyConfig())
            .SelectMany(m => ModelRegistry.ClientIds(credential.Prefix, m.ClientId, (config ?? new ProxyConfig()).ForceModelPrefix).Select(id => $"{id}->{m.Upstream}"))
            .Order(StringComparer.Ordinal)];

    public static TheoryData<string, CredentialRecord, ProxyConfig, string[]> Cases => new()
    {
        { "catalog", File(), new ProxyConfig(), ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5->gpt-5", "gpt-5-mini->gpt-5-mini"] },
        { "per-key models replace the catalog", Key([new("upstream-x", "x"), new("gpt-5", "gpt-5")]), new ProxyConfig(), ["gpt-5->gpt-5", "x->upstream-x"] },
        { "exact exclusion", Key(excluded: ["gpt-5"]), new ProxyConfig(), ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5-mini->gpt-5-mini"] },
        { "prefix* exclusion", Key(excluded: ["gpt-*"]), new ProxyConfig(), ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro"] },
        { "*suffix exclusion", Key(excluded: ["*-mini"]), new ProxyConfig(), ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5->gpt-5"] },
        { "*substring* exclusion", Key(excluded: ["*2.5*"]), new ProxyConfig(), ["claude-opus->claude-opus", "gpt-5->gpt-5", "gpt-5-mini->gpt-5-mini"] },
        { "oauth exclusions apply to files by provider", File(), new ProxyConfig { OauthExcludedModels = new() { ["P"] = ["GPT*", "claude-*"] } }, ["gemini-2.5-pro->gemini-2.5-pro"] },
        { "oauth exclusions do not apply to API keys", Key(), new ProxyConfig { OauthExcludedModels = new() { ["p"] = ["*"] } }, ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5->gpt-5", "gpt-5-mini->gpt-5-mini"] },
        { "oauth alias renames", File(), new ProxyConfig { OauthModelAlias = new() { ["p"] = [new() { Name = "GPT-5", Alias = "fast" }] } },
            ["claude-opus->claude-opus", "fast->gpt-5", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5-mini->gpt-5-mini"] },
        { "oauth alias with fork keeps the original", File(), new ProxyConfig { OauthModelAlias = new() { ["p"] = [new() { Name = "gpt-5", Alias = "fast", Fork = true }, new() { Name = "gpt-5", Alias = "quick" }] } },
            ["claude-opus->claude-opus", "fast->gpt-5", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5->gpt-5", "gpt-5-mini->gpt-5-mini", "quick->gpt-5"] },
        { "oauth alias does not apply to API keys", Key(), new ProxyConfig { OauthModelAlias = new() { ["p"] = [new() { Name = "gpt-5", Alias = "fast" }] } },
            ["claude-opus->claude-opus", "gemini-2.5-pro->gemini-2.5-pro", "gpt-5->gpt-5", "gpt-5-mini->gpt-5-mini"] },
        { "prefix serves both", Key([new("gpt-5", "g")], prefix: "team"), new ProxyConfig(), ["g->gpt-5", "team/g->gpt-5"] },
        { "force-model-prefix serves only prefixed", Key([new("gpt-5", "g")], prefix: "team"), new ProxyConfig { ForceModelPrefix = true }, ["team/g->gpt-5"] },
        { "force-model-prefix leaves unprefixed credentials alone", Key([new("gpt-5", "g")]), new ProxyConfig { ForceModelPrefix = true }, ["g->gpt-5"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Served_models(string scenario, CredentialRecord credential, ProxyConfig config, string[] expected)
    {
        Assert.True(expected.SequenceEqual(Served(credential, config)), $"{scenario}: got {string.Join(", ", Served(credential, config))}");
    }

    [Fact]
    public void Lookups_prefer_the_exact_id_and_fall_back_to_case_insensitive()
    {
        var routes = new Dictionary<string, List<ModelRoute>>
        {
            ["GPT-5"] = [new ModelRoute(Key(), "upper")],
            ["gpt-5"] = [new ModelRoute(Key(), "lower")],
        };
        var snapshot = new RegistrySnapshot(1, routes, []);
        Assert.Equal("upper", snapshot.RoutesFor("GPT-5").Single().UpstreamModel);
        Assert.Equal("lower", snapshot.RoutesFor("gpt-5").Single().UpstreamModel);
        Assert.Equal("upper", snapshot.RoutesFor("Gpt-5").Single().UpstreamModel);
        Assert.True(snapshot.RoutesFor("gpt-6").IsEmpty);
    }
}
