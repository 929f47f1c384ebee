using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Routing;
using PluginProxy.Host.Scheduling;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Routing;

/// <summary>Config credentials served by the built-in OpenAICompat plugin: "solo-model" has one credential, "pair-model" two.</summary>
public sealed class ModelAvailabilityTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("""
        openai-compatibility:
          - name: "solo"
            base-url: "http://127.0.0.1:9/v1"
            prefix: "team"
            api-key-entries: [{api-key: "sk-solo"}]
            models: [{name: "solo-up", alias: "solo-model"}]
          - name: "pair"
            base-url: "http://127.0.0.1:9/v1"
            api-key-entries: [{api-key: "sk-pair-1"}, {api-key: "sk-pair-2"}]
            models: [{name: "pair-up", alias: "pair-model"}]
        """, pluginsFolder: Path.Combine(AppContext.BaseDirectory, "plugins"));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ModelAvailability Availability => (ModelAvailability)_server.Server.Services.GetService(typeof(ModelAvailability))!;
    private Scheduler Scheduler => (Scheduler)_server.Server.Services.GetService(typeof(Scheduler))!;

    private string CredentialOf(string provider, int index = 0) =>
        _server.Server.Credentials.Current.All.Where(c => c.Provider == provider).OrderBy(c => c.Id, StringComparer.Ordinal).ElementAt(index).Id;

    private void Cool(string credential, string model) =>
        Scheduler.Book.Set(credential, model, new Cooldown(Scheduler.Clock.GetUtcNow().AddHours(1), FailureKind.Quota, 429, 0));

    [Fact]
    public void Served_models_are_available_by_id_alias_prefix_case_and_thinking_suffix()
    {
        Assert.True(Availability.IsAvailable("solo-model"));
        Assert.True(Availability.IsAvailable("team/solo-model"));
        Assert.True(Availability.IsAvailable("SOLO-MODEL"));
        Assert.True(Availability.IsAvailable("solo-model(high)"));
        Assert.True(Availability.IsAvailable("pair-model"));
        Assert.False(Availability.IsAvailable("solo-up")); // the upstream name is not a client id
        Assert.False(Availability.IsAvailable("unknown-model"));
        Assert.False(Availability.IsAvailable(""));
    }

    [Fact]
    public void A_model_whose_only_credential_is_cooling_is_unavailable_until_the_cooldown_clears()
    {
        var solo = CredentialOf("solo");
        Cool(solo, "solo-model");

        Assert.False(Availability.IsAvailable("solo-model"));
        Assert.False(Availability.IsAvailable("Solo-Model(8192)"));
        Assert.True(Availability.IsAvailable("pair-model"));

        Scheduler.Reset(solo);
        Assert.True(Availability.IsAvailable("solo-model"));
    }

    [Fact]
    public void A_credential_wide_cooldown_counts_and_one_cooling_credential_of_two_does_not()
    {
        Cool(CredentialOf("pair", 0), CooldownBook.AnyModel);
        Assert.True(Availability.IsAvailable("pair-model"));

        Cool(CredentialOf("pair", 1), "pair-model");
        Assert.False(Availability.IsAvailable("pair-model"));
        Assert.True(Availability.IsAvailable("solo-model"));
    }

    [Fact]
    public void An_expired_cooldown_does_not_count()
    {
        var solo = CredentialOf("solo");
        Scheduler.Book.Set(solo, "solo-model", new Cooldown(Scheduler.Clock.GetUtcNow().AddHours(-1), FailureKind.Quota, 429, 0));
        Assert.True(Availability.IsAvailable("solo-model"));
    }
}
