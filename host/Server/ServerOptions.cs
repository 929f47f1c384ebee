using Serilog.Core;

namespace PluginProxy.Host.Server;

/// <summary>How to start a <see cref="ProxyServer"/>: the CLI fills it from flags; tests from their fixtures.</summary>
internal sealed class ServerOptions
{
    /// <summary>config.yaml path; when the file does not exist the server starts on safe defaults and watches for it.</summary>
    public string ConfigPath { get; init; } = "config.yaml";

    /// <summary>Overrides the plugins folder (otherwise <c>plugins.folder</c>, else <c>plugins/</c> next to the executable).</summary>
    public string? PluginsFolder { get; init; }

    /// <summary>Overrides the port from the config (tests use 0 for an ephemeral port).</summary>
    public int? Port { get; init; }

    /// <summary>The clock for cooldowns and keep-alives (tests move it by hand). Null: the system clock.</summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>An extra log output, after redaction (tests capture logs with it).</summary>
    public ILogEventSink? LogSink { get; init; }

    /// <summary>Tests only: middleware that runs before everything else (for example to present a non-loopback peer address).</summary>
    public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder>? BeforePipeline { get; init; }
}
