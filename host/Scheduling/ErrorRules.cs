using System.Text.RegularExpressions;
using PluginProxy.Abstractions.Credentials;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Scheduling;

/// <summary>What an operator's <c>request-scoped-errors</c> rule does with a matching failure.</summary>
internal enum ErrorAction
{
    /// <summary>Answer the client with this error; cool nothing.</summary>
    Stop,
    /// <summary>Answer the client with this error and cool the credential down.</summary>
    StopAndCooldown,
    /// <summary>Try the next credential; cool nothing.</summary>
    Continue,
    /// <summary>Try the next credential and cool this one down.</summary>
    ContinueAndCooldown,
}

/// <summary>One compiled rule: the status must be equal, and the upstream's error text contain a substring or match a regex.</summary>
internal sealed class ErrorRule
{
    // Upstream bodies are bounded, but an operator's pattern should never hold a request for long.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    private ErrorRule(int status, string[] substrings, Regex[] patterns, ErrorAction action)
    {
        Status = status;
        Substrings = substrings;
        Patterns = patterns;
        Action = action;
    }

    public int Status { get; }
    public string[] Substrings { get; }
    public Regex[] Patterns { get; }
    public ErrorAction Action { get; }

    /// <summary>Compiles a config rule; throws <see cref="FormatException"/> saying what is wrong with it.</summary>
    public static ErrorRule Compile(RequestScopedErrorRule rule)
    {
        if (rule.Status is < 100 or > 599) throw new FormatException($"status {rule.Status} is not an HTTP status");
        var action = rule.Action?.Trim().ToLowerInvariant() switch
        {
            "stop" => ErrorAction.Stop,
            "stop-and-cooldown" => ErrorAction.StopAndCooldown,
            "continue" => ErrorAction.Continue,
            "continue-and-cooldown" => ErrorAction.ContinueAndCooldown,
            _ => throw new FormatException($"action '{rule.Action}' is not stop, stop-and-cooldown, continue or continue-and-cooldown"),
        };
        var substrings = rule.Match.Select(m => m?.Trim() ?? "").Where(m => m.Length > 0).ToArray();
        var patterns = rule.MatchRegexr.Concat(rule.MatchRegex).Select(m => m?.Trim() ?? "").Where(m => m.Length > 0).Select(p =>
        {
            try
            {
                return new Regex(p, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"match-regexr '{p}' is not a valid regular expression: {e.Message}", e);
            }
        }).ToArray();
        if (substrings.Length == 0 && patterns.Length == 0)
            throw new FormatException($"the rule for status {rule.Status} needs at least one match or match-regexr pattern");
        return new ErrorRule(rule.Status, substrings, patterns, action);
    }

    public bool Matches(int status, string text)
    {
        if (status != Status) return false;
        foreach (var s in Substrings)
            if (text.Contains(s, StringComparison.Ordinal)) return true;
        foreach (var p in Patterns)
        {
            try
            {
                if (p.IsMatch(text)) return true;
            }
            catch (RegexMatchTimeoutException)
            {
            }
        }
        return false;
    }
}

/// <summary>
/// The request-scoped error rules of one config snapshot: a key entry's or provider's own rules for the credentials it
/// made (<c>request-scoped-errors</c>), and <c>oauth-request-scoped-errors.&lt;channel&gt;</c> for credential files of that
/// provider. Applied by the failover loop before the built-in classification; the first matching rule wins.
/// </summary>
internal sealed class ErrorRules
{
    public static readonly ErrorRules None = new(new Dictionary<string, ErrorRule[]>(), new Dictionary<string, ErrorRule[]>());

    private readonly IReadOnlyDictionary<string, ErrorRule[]> _byCredential;
    private readonly IReadOnlyDictionary<string, ErrorRule[]> _byChannel;

    private ErrorRules(IReadOnlyDictionary<string, ErrorRule[]> byCredential, IReadOnlyDictionary<string, ErrorRule[]> byChannel)
    {
        _byCredential = byCredential;
        _byChannel = byChannel;
    }

    public bool IsEmpty => _byCredential.Count == 0 && _byChannel.Count == 0;

    public static ErrorRules Build(ProxyConfig config)
    {
        var byCredential = ConfigCredentials.RequestScopedErrorsById(config)
            .ToDictionary(kv => kv.Key, kv => kv.Value.Select(ErrorRule.Compile).ToArray(), StringComparer.Ordinal);
        var byChannel = config.OauthRequestScopedErrors
            .Where(kv => !string.IsNullOrWhiteSpace(kv.Key) && kv.Value is { Count: > 0 })
            .GroupBy(kv => kv.Key.Trim().ToLowerInvariant())
            .ToDictionary(g => g.Key, g => g.SelectMany(kv => kv.Value).Select(ErrorRule.Compile).ToArray(), StringComparer.Ordinal);
        return byCredential.Count == 0 && byChannel.Count == 0 ? None : new ErrorRules(byCredential, byChannel);
    }

    /// <summary>The action of the first rule that matches <paramref name="failure"/> on <paramref name="credential"/>, or null.</summary>
    public ErrorAction? Match(CredentialRecord credential, UpstreamException failure)
    {
        if (IsEmpty) return null;
        var rules = credential.Source == CredentialSource.Config
            ? _byCredential.GetValueOrDefault(credential.Id)
            : _byChannel.GetValueOrDefault(credential.Provider.ToLowerInvariant()) ?? _byChannel.GetValueOrDefault(credential.Type.ToLowerInvariant());
        if (rules is null) return null;
        var text = failure.Body is { Length: > 0 } body ? body + "\n" + failure.Message : failure.Message;
        foreach (var rule in rules)
            if (rule.Matches(failure.StatusCode, text)) return rule.Action;
        return null;
    }
}
