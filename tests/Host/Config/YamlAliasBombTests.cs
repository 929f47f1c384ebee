using PluginProxy.Host.Config;

namespace PluginProxy.Tests.Host.Config;

public sealed class YamlAliasBombTests
{
    [Fact]
    public void Nested_aliases_that_expand_past_the_node_budget_are_refused_with_a_config_error()
    {
        var lines = new List<string> { "port: 8317", "a: &a [x,x,x,x,x,x,x,x,x,x]" };
        var previous = 'a';
        for (var level = 'b'; level <= 'i'; level++)
        {
            lines.Add($"{level}: &{level} [{string.Join(",", Enumerable.Repeat("*" + previous, 10))}]");
            previous = level;
        }
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(string.Join("\n", lines) + "\n"));
        Assert.Contains("nodes", error.Message);
    }

    [Fact]
    public void Aliases_within_the_budget_still_load()
    {
        var loaded = ConfigLoader.Parse("port: 8317\nbase: &b {k: v}\nproviders:\n  x: *b\n");
        Assert.Equal("v", loaded.Json.GetProperty("providers").GetProperty("x").GetProperty("k").GetString());
    }
}
