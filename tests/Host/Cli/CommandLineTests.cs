using PluginProxy.Host.Cli;

namespace PluginProxy.Tests.Host.Cli;

public sealed class CommandLineTests
{
    [Theory]
    [InlineData(new string[0], "run", null)]
    [InlineData(new[] { "run", "--config", "/etc/p.yaml" }, "run", null)]
    [InlineData(new[] { "login", "claude", "--no-browser" }, "login", "claude")]
    [InlineData(new[] { "-claude-login" }, "login", "claude")]
    [InlineData(new[] { "-codex-login", "-no-browser" }, "login", "codex")]
    [InlineData(new[] { "-login" }, "login", "gemini")]
    [InlineData(new[] { "-qwen-login" }, "login", "qwen")]
    [InlineData(new[] { "-iflow-login" }, "login", "iflow")]
    [InlineData(new[] { "plugins" }, "plugins", null)]
    [InlineData(new[] { "--help" }, "help", null)]
    public void Commands_and_cliproxyapi_aliases(string[] args, string command, string? provider)
    {
        var line = CommandLine.Parse(args);
        Assert.Null(line.Error);
        Assert.Equal(command, line.Command);
        Assert.Equal(provider, line.LoginProvider);
    }

    [Fact]
    public void The_iflow_cookie_alias_is_a_cookie_login()
    {
        var line = CommandLine.Parse(["-iflow-cookie"]);
        Assert.Null(line.Error);
        Assert.Equal(("login", "iflow"), (line.Command, line.LoginProvider));
        Assert.Equal("true", line.LoginOptions["cookie"]);
    }

    [Theory]
    [InlineData("import vertex /keys/sa.json --location europe-west4")]
    [InlineData("-vertex-import /keys/sa.json --location europe-west4")]
    [InlineData("login vertex --key-file /keys/sa.json --location europe-west4")]
    public void Import_vertex_is_a_vertex_login_with_the_key_file(string args)
    {
        var line = CommandLine.Parse(args.Split(' '));
        Assert.Null(line.Error);
        Assert.Equal(("login", "vertex"), (line.Command, line.LoginProvider));
        Assert.Equal(new Dictionary<string, string> { ["key-file"] = "/keys/sa.json", ["location"] = "europe-west4" }, line.LoginOptions);
    }

    [Theory]
    [InlineData(new[] { "import", "vertex" }, "needs a service-account key file")]
    [InlineData(new[] { "import", "claude", "x.json" }, "import vertex <service-account.json>")]
    public void Import_without_a_file_or_for_another_provider_is_refused(string[] args, string expected)
    {
        var line = CommandLine.Parse(args);
        Assert.Equal("help", line.Command);
        Assert.Contains(expected, line.Error);
    }

    [Fact]
    public void Options_are_read_in_either_spelling()
    {
        var line = CommandLine.Parse(["-config", "c.yaml", "-codex-login", "-no-browser", "-oauth-callback-port", "1455"]);
        Assert.Equal("c.yaml", line.ConfigPath);
        Assert.True(line.NoBrowser);
        Assert.Equal(1455, line.CallbackPort);
        Assert.Equal(8080, CommandLine.Parse(["login", "qwen", "--callback-port=8080"]).CallbackPort);
    }

    [Fact]
    public void Login_passes_unknown_options_to_the_provider()
    {
        var line = CommandLine.Parse(["login", "gemini", "--project-id", "p1", "--all", "--no-browser", "--mode=fast"]);
        Assert.Null(line.Error);
        Assert.True(line.NoBrowser);
        Assert.Equal(new Dictionary<string, string> { ["project-id"] = "p1", ["all"] = "true", ["mode"] = "fast" }, line.LoginOptions);
        // CLIProxyAPI's spelling of the Gemini project flag, with its alias for the login itself.
        Assert.Equal("p1", CommandLine.Parse(["-login", "-project_id", "p1"]).LoginOptions["project-id"]);
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown argument")]
    [InlineData(new[] { "run", "--project-id", "x" }, "unknown argument '--project-id'")]
    [InlineData(new[] { "login", "claude", "stray" }, "unknown argument 'stray'")]
    [InlineData(new[] { "login" }, "needs a provider")]
    [InlineData(new[] { "--config" }, "needs a file path")]
    [InlineData(new[] { "login", "x", "--callback-port", "99999" }, "port number")]
    public void Bad_arguments_say_what_is_wrong(string[] args, string expected)
    {
        var line = CommandLine.Parse(args);
        Assert.Equal("help", line.Command);
        Assert.Contains(expected, line.Error);
    }

    [Fact]
    public async Task Login_without_a_provider_plugin_explains_and_exits_2()
    {
        var dir = Directory.CreateTempSubdirectory("pluginproxy-cli-").FullName;
        var config = Path.Combine(dir, "config.yaml");
        await File.WriteAllTextAsync(config, $"auth-dir: \"{dir}/auths\"\nplugins:\n  folder: \"{dir}/plugins\"\n");
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(2, await Commands.RunAsync(["login", "claude", "--config", config]));
        }
        finally
        {
            Console.SetError(original);
            Directory.Delete(dir, true);
        }
        Assert.Contains("No loaded plugin provides a login for 'claude'", error.ToString());
    }
}
