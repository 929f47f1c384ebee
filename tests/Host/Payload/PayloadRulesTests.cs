using System.Text.Json.Nodes;
using PluginProxy.Host.Config;
using PluginProxy.Host.Payload;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Payload;

public sealed class PayloadRulesTests
{
    private const string Rules = """
        payload:
          default:
            - models: [{name: "gemini-*", protocol: gemini}]
              params: {"generationConfig.thinkingConfig.thinkingBudget": 32768, "generationConfig.temperature": 0.5}
            - models: [{name: "gemini-*"}]
              params: {"generationConfig.thinkingConfig.thinkingBudget": 1, "labels.team": "a"}
          default-raw:
            - models: [{name: "*"}]
              params: {"metadata": "{\"source\":\"proxy\"}"}
          override:
            - models: [{name: "gpt-*", protocol: codex}]
              params: {"reasoning.effort": "high", "quoted": "123", "plain": 123, "flag": true, "nothing": null}
            - models: [{name: "gpt-*"}]
              params: {"reasoning.effort": "low"}
          override-raw:
            - models: [{name: "claude-*", protocol: claude}]
              params: {"thinking": "{\"type\":\"enabled\",\"budget_tokens\":2048}"}
          filter:
            - models: [{name: "*"}]
              params: ["safetySettings", "tools.0.cache_control"]
        """;

    private static PayloadRules Load() => ConfigLoader.Parse(Rules).Payload;

    public static TheoryData<string, string, string, string, string> Cases => new()
    {
        {
            "defaults only where absent; first rule wins per path",
            "gemini", "gemini-2.5-pro",
            """{"generationConfig":{"temperature":1},"safetySettings":[]}""",
            """{"generationConfig":{"temperature":1,"thinkingConfig":{"thinkingBudget":32768}},"labels":{"team":"a"},"metadata":{"source":"proxy"}}"""
        },
        {
            "protocol restricts a rule; overrides always set and the last one wins; YAML types survive",
            "codex", "gpt-5",
            """{"reasoning":{"effort":"minimal"},"metadata":{"x":1}}""",
            """{"reasoning":{"effort":"low"},"metadata":{"x":1},"quoted":"123","plain":123,"flag":true,"nothing":null}"""
        },
        {
            "raw override and filter into arrays",
            "claude", "claude-opus-4",
            """{"thinking":{"type":"disabled"},"tools":[{"name":"a","cache_control":{"type":"ephemeral"}}]}""",
            """{"thinking":{"type":"enabled","budget_tokens":2048},"tools":[{"name":"a"}],"metadata":{"source":"proxy"}}"""
        },
        {
            "a rule for another protocol does not apply",
            "openai", "gemini-2.5-pro",
            """{"model":"gemini-2.5-pro"}""",
            """{"model":"gemini-2.5-pro","generationConfig":{"thinkingConfig":{"thinkingBudget":1}},"labels":{"team":"a"},"metadata":{"source":"proxy"}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rules_edit_bodies(string scenario, string protocol, string model, string input, string expected)
    {
        _ = scenario;
        var body = JsonNode.Parse(input)!.AsObject();
        Load().Apply(body, protocol, [model]);
        JsonAssert.Equal(expected, body);
    }

    [Fact]
    public void Models_match_any_of_upstream_requested_and_suffixed_names()
    {
        var rules = Load();
        Assert.True(rules.AppliesTo("codex", ["upstream-name", "gpt-5", "gpt-5(high)"]));
        Assert.False(ConfigLoader.Parse("payload:\n  override:\n    - models: [{name: \"x\"}]\n      params: {a: 1}\n").Payload.AppliesTo("openai", ["y"]));
    }

    [Fact]
    public void A_raw_param_that_is_not_json_rejects_the_config()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("payload:\n  default-raw:\n    - models: [{name: \"*\"}]\n      params: {a: \"{not json\"}\n"));
        Assert.Contains("default-raw[0].a is not valid JSON", e.Message);
    }
}
