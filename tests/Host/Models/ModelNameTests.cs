using PluginProxy.Host.Models;

namespace PluginProxy.Tests.Host.Models;

public sealed class ModelNameTests
{
    [Theory]
    [InlineData("gemini-2.5-pro", "gemini-2.5-pro", null, null)]
    [InlineData("gemini-2.5-pro(8192)", "gemini-2.5-pro", null, 8192)]
    [InlineData("gpt-5(high)", "gpt-5", "high", null)]
    [InlineData("gpt-5(HIGH)", "gpt-5", "high", null)]
    [InlineData("m(none)", "m", "none", 0)]
    [InlineData("m(0)", "m", "none", 0)]
    [InlineData("m(auto)", "m", "auto", -1)]
    [InlineData("m(-1)", "m", "auto", -1)]
    [InlineData("m(007)", "m", null, 7)]
    [InlineData("m()", "m", null, null)]
    [InlineData("kimi(free)", "kimi(free)", null, null)]
    [InlineData("a(b)(xhigh)", "a(b)", "xhigh", null)]
    [InlineData("(high)", "(high)", null, null)]
    public void Thinking_suffix_is_split_from_the_base_name(string model, string expectedBase, string? level, int? budget)
    {
        var name = ModelName.Parse(model);
        Assert.Equal(expectedBase, name.Base);
        Assert.Equal(level, name.Suffix?.Level);
        Assert.Equal(budget, name.Suffix?.Budget);
    }

    [Theory]
    [InlineData("gpt-5", "gpt-5", true)]
    [InlineData("gpt-5", "gpt-5-mini", false)]
    [InlineData("gpt-5*", "gpt-5-mini", true)]
    [InlineData("*-mini", "gpt-5-mini", true)]
    [InlineData("*pro*", "gemini-2.5-pro-preview", true)]
    [InlineData("*pro*", "gemini-flash", false)]
    [InlineData("g*5*mini", "gpt-5-mini", true)]
    [InlineData("g*5*mini", "gpt-4-mini", false)]
    [InlineData("*", "anything", true)]
    [InlineData("a*a", "a", false)]
    public void Wildcard_patterns(string pattern, string value, bool matches) =>
        Assert.Equal(matches, ModelPattern.Matches(pattern, value));
}
