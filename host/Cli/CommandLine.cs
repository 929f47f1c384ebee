namespace PluginProxy.Host.Cli;

/// <summary>A parsed command line.</summary>
/// <param name="Command">run, login, plugins, help or version.</param>
/// <param name="ConfigPath">--config value (default ./config.yaml).</param>
/// <param name="LoginProvider">Provider for <c>login</c>.</param>
/// <param name="NoBrowser">--no-browser.</param>
/// <param name="CallbackPort">--callback-port.</param>
/// <param name="Error">Why the arguments were rejected, or null.</param>
internal sealed record CommandLine(string Command, string ConfigPath, string? LoginProvider, bool NoBrowser, int? CallbackPort, string? Error)
{
    /// <summary>
    /// login: options this parser does not know, for the provider's plugin (<c>LoginContext.Options</c>): <c>--project-id X</c>
    /// and CLIProxyAPI's <c>-project_id X</c> both become <c>project-id</c> = <c>X</c>; a bare flag becomes <c>true</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> LoginOptions { get; init; } = new Dictionary<string, string>();

    public const string Help = """
        PluginProxy: one local endpoint for your LLM subscriptions and API keys (CLIProxyAPI-compatible).

        Usage:
          PluginProxy.Host [run] [--config PATH]
          PluginProxy.Host login <provider> [--no-browser] [--callback-port N] [--config PATH] [provider options]
          PluginProxy.Host import vertex FILE [--location L] [--config PATH]   (= login vertex --key-file FILE)
          PluginProxy.Host plugins [--config PATH]

        Commands:
          run        Run the server (the default). Reads PATH (default ./config.yaml); without a file it starts on
                     127.0.0.1:8317 with no client keys and picks the file up when it appears.
          login      Log in to a provider account (gemini, claude, codex, qwen, iflow, ...) and save the
                     credential file into auth-dir. The running server picks it up without a restart.
          plugins    List the plugins in the plugins folder, their versions and what they provide.

        Options:
          --config PATH          Config file (default ./config.yaml).
          --no-browser           login: print the URL instead of opening a browser.
          --callback-port N      login: local port for the OAuth callback.
          --NAME [VALUE]         login: any other option goes to the provider's plugin (for example --project-id X).
          -h, --help             Show this help.
          --version              Show the version.

        CLIProxyAPI flags accepted as aliases:
          -config PATH  -login (= login gemini)  -claude-login  -codex-login  -qwen-login  -iflow-login  -iflow-cookie
          -vertex-import FILE (= import vertex FILE = login vertex --key-file FILE)
          -no-browser  -oauth-callback-port N  -project_id ID (= --project-id ID)
        """;

    private static readonly Dictionary<string, string> LoginAliases = new(StringComparer.Ordinal)
    {
        ["-login"] = "gemini",
        ["--login"] = "gemini",
        ["-claude-login"] = "claude",
        ["-codex-login"] = "codex",
        ["-qwen-login"] = "qwen",
        ["-iflow-login"] = "iflow",
    };

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        string? command = null;
        string? provider = null;
        var configPath = "config.yaml";
        var noBrowser = false;
        int? port = null;
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string? firstOption = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "-h" or "--help" or "-help" or "help":
                    command = "help";
                    break;
                case "--version" or "-version":
                    command = "version";
                    break;
                case "--config" or "-config":
                    if (i + 1 >= args.Count) return Fail($"{arg} needs a file path");
                    configPath = args[++i];
                    break;
                case "--no-browser" or "-no-browser":
                    noBrowser = true;
                    break;
                case "--callback-port" or "-oauth-callback-port" or "--oauth-callback-port":
                    if (i + 1 >= args.Count || !int.TryParse(args[i + 1], out var p) || p is < 1 or > 65535)
                        return Fail($"{arg} needs a port number between 1 and 65535");
                    port = p;
                    i++;
                    break;
                case "-iflow-cookie" or "--iflow-cookie":
                    // CLIProxyAPI's cookie login for iFlow: `login iflow --cookie`.
                    command ??= "login";
                    provider = "iflow";
                    options["cookie"] = "true";
                    break;
                case var alias when LoginAliases.TryGetValue(alias, out var aliasProvider):
                    command ??= "login";
                    provider = aliasProvider;
                    break;
                case "run" or "plugins" when command is null:
                    command = arg;
                    break;
                case "import" or "-vertex-import" or "--vertex-import" when command is null:
                    // `import vertex <key.json>` and CLIProxyAPI's `-vertex-import <key.json>` = `login vertex --key-file <key.json>`.
                    command = "login";
                    provider = "vertex";
                    if (arg == "import")
                    {
                        if (i + 1 >= args.Count || args[i + 1] != "vertex") return Fail("import needs a provider and a file: import vertex <service-account.json>");
                        i++;
                    }
                    if (i + 1 >= args.Count || args[i + 1].StartsWith('-')) return Fail($"{arg} needs a service-account key file");
                    options["key-file"] = args[++i];
                    break;
                case "login" when command is null:
                    command = "login";
                    if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) provider = args[++i];
                    break;
                case var flag when flag.StartsWith('-') && flag.Contains('='):
                    var eq = flag.IndexOf('=');
                    return Parse([.. args.Take(i), flag[..eq], flag[(eq + 1)..], .. args.Skip(i + 1)]);
                case var option when option.StartsWith('-') && option.TrimStart('-').Length > 0:
                    // Kept for the provider's login; refused below for any other command.
                    firstOption ??= option;
                    var name = option.TrimStart('-').Replace('_', '-').ToLowerInvariant();
                    options[name] = i + 1 < args.Count && !args[i + 1].StartsWith('-') ? args[++i] : "true";
                    break;
                default:
                    return Fail($"unknown argument '{arg}'");
            }
        }
        command ??= "run";
        if (firstOption is not null && command != "login") return Fail($"unknown argument '{firstOption}'");
        if (command == "login" && string.IsNullOrWhiteSpace(provider)) return Fail("login needs a provider, for example: login claude");
        return new CommandLine(command, configPath, provider?.ToLowerInvariant(), noBrowser, port, null) { LoginOptions = options };

        CommandLine Fail(string error) => new("help", configPath, null, false, null, error);
    }
}
