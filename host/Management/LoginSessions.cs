using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using System.Web;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Formats.Json;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Security;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Management;

/// <summary>
/// Provider logins started from the web. Each runs the plugin's own <see cref="IAuthenticator.LoginAsync"/> in the
/// background with a <see cref="LoginContext"/> that captures the URL it would open (returned to the caller with the
/// OAuth state), collects its output (device codes), and reads "pasted" lines from <c>POST /oauth-callback</c>. The
/// plugin's loopback callback still works when the browser runs on this machine. A finished login is written to
/// auth-dir like <c>login</c> on the command line. Sessions are in memory and expire after ten minutes.
/// </summary>
internal sealed partial class LoginSessions(PluginRuntime plugins, CredentialStore credentials, ConfigStore config, HttpClientPool httpClients,
    SecretRedactor redactor, ILogger<LoginSessions> logger)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan WaitForUrl = TimeSpan.FromSeconds(15);

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["anthropic"] = "claude",
        ["openai"] = "codex",
        ["google"] = "gemini",
        ["i-flow"] = "iflow",
        ["anti-gravity"] = "antigravity",
    };

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    internal sealed class Session(string provider)
    {
        public string Provider { get; } = provider;
        public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
        public Channel<string> Pasted { get; } = Channel.CreateUnbounded<string>();
        public TaskCompletionSource<string> Url { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public StringWriter OutputBuffer { get; } = new();
        public TextWriter Output { get; set; } = TextWriter.Null;
        public CancellationTokenSource Cancel { get; } = new();
        public volatile string Status = "wait";
        public string? Error;
        public string? FileName;
        public string? Label;
        public Task Run = Task.CompletedTask;
    }

    /// <summary>Starts a login for <paramref name="name"/>; answers <c>{"status":"ok","url","state"}</c> or an error.</summary>
    public async Task<Reply> StartAsync(string name, IReadOnlyDictionary<string, string> options, CancellationToken cancellationToken)
    {
        Purge();
        var wanted = Aliases.GetValueOrDefault(name, name);
        var lease = plugins.Acquire();
        var provider = lease.Set.Plugins.SelectMany(p => p.Providers)
            .Where(p => p.Authenticator is not null)
            .FirstOrDefault(p => Matches(p, wanted) || Matches(p, wanted + "-cli"));
        if (provider?.Authenticator is not { } authenticator)
        {
            lease.Dispose();
            return Reply.BadRequest($"no loaded plugin provides a login for '{name}'");
        }
        var session = new Session(provider.Id);
        session.Output = TextWriter.Synchronized(session.OutputBuffer);
        var loaded = config.Current;
        var context = new LoginContext
        {
            Http = httpClients.Get(loaded.Config.ProxyUrl),
            Output = session.Output,
            OpenBrowser = url =>
            {
                session.Url.TrySetResult(url);
                return true;
            },
            ReadLine = async token =>
            {
                try
                {
                    return await session.Pasted.Reader.ReadAsync(token).ConfigureAwait(false);
                }
                catch (ChannelClosedException)
                {
                    return null;
                }
            },
            // No terminal to wait for: a posted redirect URL is accepted from the start.
            PasteAfter = TimeSpan.Zero,
            Timeout = Ttl,
            Settings = loaded.SettingsFor(provider.Id),
            Options = options,
            ExistingCredentials = () => [.. credentials.Current.All.Where(r => r.Source == CredentialSource.File)],
        };
        session.Run = Task.Run(async () =>
        {
            using (lease)
            {
                try
                {
                    var result = await authenticator.LoginAsync(context, session.Cancel.Token).ConfigureAwait(false);
                    if (result?.Content is null || result.FileName != Path.GetFileName(result.FileName) || !result.FileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                        throw new InvalidOperationException($"the {provider.Id} plugin returned no credential or an invalid file name");
                    if (AuthFileParser.Parse(Path.Combine(credentials.AuthDir, result.FileName), credentials.AuthDir, JsonText.SerializeToUtf8(result.Content)) is null)
                        throw new InvalidOperationException($"the {provider.Id} plugin returned a credential without a known \"type\"");
                    await credentials.WriteAsync(result.FileName, result.Content, CancellationToken.None).ConfigureAwait(false);
                    session.FileName = result.FileName;
                    session.Label = result.Label;
                    session.Status = "ok";
                    LogLoggedIn(provider.Id, result.Label, result.FileName);
                }
                catch (Exception e)
                {
                    session.Error = redactor.Redact(e is OperationCanceledException ? "the login was cancelled or timed out" : e.Message);
                    session.Status = "error";
                    LogFailed(provider.Id, session.Error);
                }
            }
        }, CancellationToken.None);

        var first = await Task.WhenAny(session.Url.Task, session.Run, Task.Delay(WaitForUrl, cancellationToken)).ConfigureAwait(false);
        string? url = session.Url.Task.IsCompleted ? session.Url.Task.Result : null;
        if (url is null && session.Status == "error") return Reply.BadRequest(session.Error ?? "login failed");
        var state = url is not null && Uri.TryCreate(url, UriKind.Absolute, out var parsed) && HttpUtility.ParseQueryString(parsed.Query)["state"] is { Length: > 0 } s
            ? s
            : Guid.NewGuid().ToString("N");
        _sessions[state] = session;
        _ = first;
        return Reply.Json(new JsonObject
        {
            ["status"] = "ok",
            ["url"] = url,
            ["state"] = state,
            ["message"] = redactor.Redact(session.OutputBuffer.ToString().Trim()),
        });
    }

    /// <summary><c>GET /get-auth-status</c>: wait, ok, or error with the message. An unknown state answers ok (as CLIProxyAPI).</summary>
    public Reply Status(string state)
    {
        if (!_sessions.TryGetValue(state, out var session)) return Reply.Json(new JsonObject { ["status"] = "ok" });
        return session.Status switch
        {
            "ok" => Reply.Json(new JsonObject { ["status"] = "ok", ["file"] = session.FileName, ["label"] = session.Label }),
            "error" => Reply.Json(new JsonObject { ["status"] = "error", ["error"] = session.Error }),
            _ => Reply.Json(new JsonObject { ["status"] = "wait" }),
        };
    }

    /// <summary>
    /// <c>POST /oauth-callback</c>: hands the redirect (a URL, or code and state) to the waiting login, as if it had
    /// been pasted into the terminal. 404 for an unknown state, 409 when that login is no longer waiting.
    /// </summary>
    public Reply Callback(string? redirectUrl, string? code, string? state, string? error)
    {
        if (redirectUrl is not null && state is null && Uri.TryCreate(redirectUrl, UriKind.Absolute, out var parsed))
        {
            var query = HttpUtility.ParseQueryString(parsed.Query);
            state = query["state"];
            if (state is null && parsed.Fragment.Length > 1) state = HttpUtility.ParseQueryString(parsed.Fragment[1..])["state"];
        }
        if (string.IsNullOrEmpty(state)) return Reply.BadRequest("missing state");
        if (!_sessions.TryGetValue(state, out var session)) return Reply.NotFound("unknown or expired state");
        if (session.Status != "wait") return Reply.Error(409, "that login is not waiting for a callback");
        var line = redirectUrl ?? (error is not null
            ? $"http://localhost/callback?error={Uri.EscapeDataString(error)}&state={Uri.EscapeDataString(state)}"
            : code is not null ? $"http://localhost/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}" : null);
        if (line is null) return Reply.BadRequest("missing redirect_url or code");
        session.Pasted.Writer.TryWrite(line);
        return Reply.Ok();
    }

    private void Purge()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (state, session) in _sessions)
        {
            if (now - session.Created < Ttl) continue;
            session.Cancel.Cancel();
            _sessions.TryRemove(state, out _);
        }
    }

    private static bool Matches(IProviderPlugin provider, string name) =>
        string.Equals(provider.Id, name, StringComparison.OrdinalIgnoreCase) || provider.CredentialTypes.Contains(name, StringComparer.OrdinalIgnoreCase);

    [LoggerMessage(LogLevel.Information, "Web login for {Provider} saved {Label} to {File}")]
    private partial void LogLoggedIn(string provider, string label, string file);

    [LoggerMessage(LogLevel.Warning, "Web login for {Provider} failed: {Error}")]
    private partial void LogFailed(string provider, string error);
}
