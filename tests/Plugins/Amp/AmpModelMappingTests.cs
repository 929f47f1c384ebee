using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>The ampcode.model-mappings table, through the plugin's <c>Route</c>.</summary>
public sealed class AmpModelMappingTests
{
    private const string ProviderPath = "/api/provider/anthropic/v1/messages";

    private static readonly HashSet<string> Served = new(StringComparer.OrdinalIgnoreCase)
    {
        "gpt-5", "gemini-2.5-pro", "claude-sonnet-4", "local-a", "local-b",
    };

    private static RouteDecision Route(string model, string mappings, string extra = "", string path = ProviderPath, IReadOnlySet<string>? served = null)
    {
        var available = served ?? Served;
        return AmpPlugin.Create().Route(new RouteContext
        {
            Model = model,
            Path = path,
            RouteValues = new Dictionary<string, string> { ["provider"] = "anthropic" },
            // Like the host: a thinking suffix does not change availability.
            IsModelAvailable = m => available.Contains(m.Contains('(') ? m[..m.IndexOf('(')] : m),
            Settings = AmpPlugin.Settings("{\"ampcode\":{\"model-mappings\":[" + mappings + "]" + extra + "}}"),
        });
    }

    [Theory]
    [InlineData("claude-opus-4-5", "gpt-5")]
    [InlineData("CLAUDE-Opus-4-5", "gpt-5")]
    [InlineData("claude-opus-4-5(high)", "gpt-5(high)")]
    [InlineData("claude-opus-4-5(8192)", "gpt-5(8192)")]
    [InlineData("claude-opus-4-5()", "gpt-5")]
    public void Exact_mapping_ignores_case_and_keeps_the_requests_suffix(string requested, string expected)
    {
        var decision = Route(requested, """{"from":"claude-opus-4-5","to":"gpt-5"}""");

        Assert.Equal(expected, decision.Model);
        Assert.Equal(requested, decision.ResponseModel);
        Assert.Null(decision.Provider);
    }

    [Fact]
    public void The_targets_own_suffix_wins_over_the_requests()
    {
        var decision = Route("g25p(8192)", """{"from":"g25p","to":"gemini-2.5-pro(low)"}""");

        Assert.Equal("gemini-2.5-pro(low)", decision.Model);
        Assert.Equal("g25p(8192)", decision.ResponseModel);
    }

    [Fact]
    public void A_target_no_local_account_serves_is_no_mapping()
    {
        var decision = Route("claude-opus-4-5", """{"from":"claude-opus-4-5","to":"gpt-nobody-serves"}""");

        Assert.Same(RouteDecision.Unchanged, decision);
    }

    [Fact]
    public void Exact_beats_a_regex_listed_before_it()
    {
        var decision = Route("claude-opus-4-5", """{"from":"^claude-","to":"local-a","regex":"true"},{"from":"claude-opus-4-5","to":"local-b"}""");

        Assert.Equal("local-b", decision.Model);
    }

    [Fact]
    public void The_first_served_candidate_wins_exact_then_regex_in_config_order()
    {
        const string mappings = """
            {"from":"claude-opus-4-5","to":"not-served"},
            {"from":"opus","to":"also-not-served","regex":"true"},
            {"from":"OPUS","to":"local-a","regex":"true"},
            {"from":"claude","to":"local-b","regex":"true"}
            """;

        Assert.Equal("local-a", Route("claude-opus-4-5", mappings).Model);
    }

    [Theory]
    [InlineData("claude-haiku-4(high)", "local-a(high)")] // the pattern sees the base name, so $ anchors before the suffix
    [InlineData("Claude-Haiku-4", "local-a")]
    [InlineData("gpt-4o", null)]
    public void Regex_matches_the_base_name_ignoring_case(string requested, string? expected)
    {
        var decision = Route(requested, """{"from":"^claude-haiku-\\d$","to":"local-a","regex":true}""");

        Assert.Equal(expected, decision.Model);
    }

    [Fact]
    public void Invalid_entries_are_skipped_and_the_rest_apply()
    {
        const string mappings = """
            {"from":"(unclosed","to":"local-a","regex":"true"},
            {"from":"","to":"local-a"},
            {"from":"claude-opus-4-5"},
            "not an object",
            {"from":"claude-opus-4-5","to":"local-b"}
            """;

        Assert.Equal("local-b", Route("claude-opus-4-5", mappings).Model);
    }

    [Fact]
    public void A_served_model_is_left_alone_unless_mappings_are_forced()
    {
        const string mapping = """{"from":"gpt-5","to":"local-a"}""";

        Assert.Same(RouteDecision.Unchanged, Route("gpt-5", mapping));
        var forced = Route("gpt-5", mapping, extra: ""","force-model-mappings":"true" """);
        Assert.Equal("local-a", forced.Model);
        Assert.Equal("gpt-5", forced.ResponseModel);
        // Forced, but nothing maps it: served as asked.
        Assert.Same(RouteDecision.Unchanged, Route("gemini-2.5-pro", mapping, extra: ""","force-model-mappings":"true" """));
    }

    [Fact]
    public void Mappings_apply_only_on_amps_provider_paths()
    {
        Assert.Same(RouteDecision.Unchanged, Route("claude-opus-4-5", """{"from":"claude-opus-4-5","to":"gpt-5"}""", path: "/v1/messages"));
        Assert.Equal("gpt-5", Route("claude-opus-4-5", """{"from":"claude-opus-4-5","to":"gpt-5"}""", path: "/api/provider/openai/v1beta/models/claude-opus-4-5:generateContent").Model);
    }

    [Fact]
    public void Without_an_ampcode_block_nothing_changes()
    {
        var decision = AmpPlugin.Create().Route(new RouteContext
        {
            Model = "claude-opus-4-5",
            Path = ProviderPath,
            IsModelAvailable = _ => true,
            Settings = AmpPlugin.Settings("""{"api-keys":["k"]}"""),
        });

        Assert.Same(RouteDecision.Unchanged, decision);
    }

    [Fact]
    public void A_model_nobody_serves_and_nothing_maps_is_warned_about_once_and_left_to_the_hosts_404()
    {
        var model = "claude-unmapped-" + Guid.NewGuid().ToString("N");
        _ = AmpPlugin.Warnings; // start capturing

        Assert.Same(RouteDecision.Unchanged, Route(model, """{"from":"other","to":"gpt-5"}"""));
        Assert.Same(RouteDecision.Unchanged, Route(model, """{"from":"other","to":"gpt-5"}"""));

        var warning = Assert.Single(AmpPlugin.Warnings, w => w.Contains(model));
        Assert.Contains("ampcode.model-mappings", warning);
        Assert.Contains("no Amp credits are used", warning);
        Assert.Contains("ampcode.upstream-url is not set", warning);
    }

    [Fact]
    public void Routes_cover_every_amp_provider_path_and_never_pin_a_provider()
    {
        var routes = AmpPlugin.Create().Routes;
        string[] expected =
        [
            "GET /api/provider/{provider}/models", "GET /api/provider/{provider}/v1/models",
            "GET /api/provider/anthropic/models", "GET /api/provider/google/v1/models",
            "POST /api/provider/{provider}/chat/completions", "POST /api/provider/{provider}/v1/chat/completions",
            "POST /api/provider/{provider}/completions", "POST /api/provider/{provider}/responses", "POST /api/provider/{provider}/v1/responses",
            "POST /api/provider/{provider}/v1/messages", "POST /api/provider/{provider}/v1/messages/count_tokens",
            "GET /api/provider/{provider}/v1beta/models", "POST /api/provider/{provider}/v1beta/models/{**action}",
            "GET /api/provider/{provider}/v1beta/models/{**model}", "POST /api/provider/{provider}/v1beta1/publishers/google/models/{**action}",
        ];
        foreach (var route in expected) Assert.Contains(route, routes.Select(r => $"{r.Method} {r.Pattern}"));

        var decision = Route("gpt-5", "");
        Assert.Null(decision.Provider);
    }
}

public sealed class AmpConfigKeyTests
{
    [Fact]
    public void The_ampcode_block_is_a_known_top_level_key()
    {
        var loaded = PluginProxy.Host.Config.ConfigLoader.Parse("""
            ampcode:
              upstream-url: "https://ampcode.com"
            amp-typo: 1
            """);

        Assert.Equal(["amp-typo"], loaded.UnknownKeys);
    }
}
