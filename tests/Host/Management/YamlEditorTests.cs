using System.Text.Json.Nodes;
using PluginProxy.Host.Config;

namespace PluginProxy.Tests.Host.Management;

public sealed class YamlEditorTests
{
    private const string Sample = """
        # top comment
        port: 8317   # the port
        debug: false # verbose logs

        routing:
          # how credentials are chosen
          strategy: round-robin
        api-keys:
          - a   # first key
          - b
        # trailing comment
        """;

    [Fact]
    public void A_scalar_is_replaced_in_place_and_keeps_its_inline_comment_and_every_other_line()
    {
        var editor = new YamlEditor(Sample);
        editor.Set(["debug"], true);
        Assert.Equal(Sample.Replace("debug: false # verbose logs", "debug: true # verbose logs"), editor.Text);
        editor.Set(["routing", "strategy"], "fill-first");
        Assert.Contains("  # how credentials are chosen\n  strategy: fill-first\n", editor.Text);
        Assert.Equal(true, (bool?)editor.Get("debug"));
    }

    [Fact]
    public void Rewriting_a_list_keeps_values_that_only_look_like_numbers()
    {
        var editor = new YamlEditor("api-keys:\n  - 000123\n  - 1.0\n  - 1e3\n  - 42\n  - abc\n");
        var keys = editor.Get("api-keys")!.AsArray();
        editor.Set(["api-keys"], keys.DeepClone()); // what a PATCH of one entry does to the whole list

        var reread = new YamlEditor(editor.Text).Get("api-keys")!.AsArray().Select(n => n!.ToString()).ToArray();
        Assert.Equal(["000123", "1.0", "1e3", "42", "abc"], reread);
    }

    [Fact]
    public void A_list_is_replaced_in_block_style_and_the_comments_around_it_stay()
    {
        var editor = new YamlEditor(Sample);
        editor.Set(["api-keys"], new JsonArray("x", "y: z", "true"));
        Assert.Contains("api-keys:\n  - x\n  - \"y: z\"\n  - \"true\"\n# trailing comment", editor.Text);
        Assert.StartsWith("# top comment\nport: 8317   # the port\n", editor.Text);
        Assert.Equal(["x", "y: z", "true"], editor.Get("api-keys")!.AsArray().Select(n => (string)n!).ToArray());
    }

    [Fact]
    public void Missing_keys_and_mappings_are_created_and_objects_in_lists_render_as_blocks()
    {
        var editor = new YamlEditor(Sample);
        editor.Set(["routing", "sticky"], 5);
        editor.Set(["quota-exceeded", "switch-project"], true);
        editor.Set(["gemini-api-key"], new JsonArray(new JsonObject { ["api-key"] = "k1", ["headers"] = new JsonObject { ["X-A"] = "1" }, ["models"] = new JsonArray() }));
        var text = editor.Text;
        Assert.Contains("  strategy: round-robin\n  sticky: 5\napi-keys:", text);
        Assert.Contains("quota-exceeded:\n  switch-project: true\n", text);
        Assert.Contains("gemini-api-key:\n  - api-key: k1\n    headers:\n      X-A: \"1\"\n    models: []\n", text);
        var parsed = ConfigLoader.Parse(text);
        Assert.Equal("k1", parsed.Config.GeminiApiKey.Single().ApiKey);
        Assert.Equal("1", parsed.Config.GeminiApiKey.Single().Headers["X-A"]);
        Assert.True(parsed.Config.QuotaExceeded.SwitchProject);
    }

    [Fact]
    public void Removing_a_key_takes_its_lines_only()
    {
        var editor = new YamlEditor(Sample);
        Assert.True(editor.Remove(["routing"]));
        Assert.DoesNotContain("strategy", editor.Text);
        Assert.Contains("debug: false # verbose logs\n\napi-keys:", editor.Text.Replace("\n  # how credentials are chosen", ""));
        Assert.False(editor.Remove(["nothing"]));
    }

    [Fact]
    public void Typed_values_come_back_with_yaml_types()
    {
        var editor = new YamlEditor("a: 1\nb: \"1\"\nc: true\nd:\ne: x\n");
        var all = editor.GetAll();
        Assert.Equal(System.Text.Json.JsonValueKind.Number, all["a"]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.String, all["b"]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.True, all["c"]!.GetValueKind());
        Assert.Null(all["d"]);
        editor.Set(["d"], "now set");
        Assert.Equal("a: 1\nb: \"1\"\nc: true\nd: now set\ne: x\n", editor.Text);
    }

    [Fact]
    public void An_empty_document_gets_the_key_appended()
    {
        var editor = new YamlEditor("# only a comment\n");
        editor.Set(["remote-management", "secret-key"], "s");
        Assert.Equal("# only a comment\nremote-management:\n  secret-key: s\n", editor.Text);
    }
}
