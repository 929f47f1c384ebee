using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Models;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scheduling;
using PluginProxy.Host.Security;
using PluginProxy.Host.Upstream;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// Hands a request's candidates to <see cref="AttemptRunner"/> one at a time until one serves it, and decides what each
/// failure costs:
/// <list type="bullet">
/// <item>a failure before the first byte records a cooldown by its scope (model, whole credential, or nothing for
/// request-scoped failures) and moves on; a 401 also starts a token refresh; a client error stops (another account
/// would fail alike);</item>
/// <item>a transient failure (5xx, connection, timeout) when no other candidate is left is retried on the same
/// credential after a short backoff, up to <c>request-retry</c> times, before its cooldown is applied;</item>
/// <item>rounds: <c>streaming.bootstrap-retries</c> for streams, and <c>request-retry</c> waits of up to
/// <c>max-retry-interval</c> for a cooldown to end;</item>
/// <item>when nothing is left: the last failure in the client's dialect, or a 429 saying when the first cooling
/// credential frees up.</item>
/// </list>
/// </summary>
internal sealed partial class FailoverLoop(Scheduler scheduler, AttemptRunner attempts, CredentialRefresher refresher, CredentialHealth health,
    SecretRedactor redactor, ILogger<FailoverLoop> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>Backoff before retrying a transient failure on the same credential: 250 ms doubling, at most 2 s.</summary>
    internal static TimeSpan TransientBackoff(int retry) => TimeSpan.FromMilliseconds(Math.Min(2000, 250 * (1 << Math.Min(retry, 4))));

    public async Task RunAsync(ProxyRequest request, PluginSet plugins, Candidates candidates)
    {
        var settings = request.Config.Config;
        var selection = scheduler.Begin(candidates.ModelId, candidates.Routes, candidates.RegistryRevision, candidates.PinnedProvider,
            settings.Routing.SessionAffinity ? SessionKeys.From(request.Http.Request.Headers, request.Body.Span) : null);
        var retryBudget = 0;
        foreach (var route in candidates.Routes) retryBudget = Math.Max(retryBudget, route.Credential.RequestRetry ?? settings.RequestRetry);
        var waitRounds = settings.MaxRetryInterval > 0 ? retryBudget : 0;
        var transientRetries = retryBudget;
        var bootstrapRounds = request.Stream ? Math.Max(0, settings.Streaming.BootstrapRetries) : 0;
        AttemptResult last = default;
        while (true)
        {
            // A transient failure waits here until we know whether another candidate is left.
            (ModelRoute Route, AttemptResult Result)? deferred = null;
            while (true)
            {
                ModelRoute route;
                if (selection.TryNext(out var next))
                {
                    if (deferred is { } before) Record(selection, before.Route, before.Result);
                    deferred = null;
                    route = next;
                }
                else if (deferred is { } again && transientRetries > 0)
                {
                    transientRetries--;
                    var wait = TransientBackoff(retryBudget - transientRetries - 1);
                    LogTransientRetry(again.Route.Credential.Label, again.Result.Failure!.StatusCode, wait.TotalMilliseconds);
                    if (!await DelayAsync(wait, request)) return;
                    route = again.Route;
                    deferred = null;
                }
                else
                {
                    if (deferred is { } given) Record(selection, given.Route, given.Result);
                    break;
                }

                var result = await attempts.RunAsync(request, plugins, route);
                RequestTrace.Note(request, result);
                switch (result.Outcome)
                {
                    case AttemptOutcome.Served:
                        selection.Succeeded(route, request.ResponseId);
                        return;
                    case AttemptOutcome.Answered:
                    case AttemptOutcome.ClientGone:
                        return;
                    case AttemptOutcome.NoProvider:
                        continue;
                    case AttemptOutcome.FailedAfterStart:
                        if (result.CoolDown) Record(selection, route, result);
                        return;
                }
                last = result;
                var failure = result.Failure!;
                // The operator's request-scoped-errors rules come before the built-in classification.
                if (request.Config.ErrorRules.Match(route.Credential, failure) is { } action)
                {
                    if (action is ErrorAction.StopAndCooldown or ErrorAction.ContinueAndCooldown) Record(selection, route, result, force: true);
                    else LogRuleMatched(route.Credential.Label, failure.StatusCode, action);
                    if (action is ErrorAction.Continue or ErrorAction.ContinueAndCooldown) continue;
                    await ErrorWriter.WriteUpstreamAsync(request.Http, request.Client, failure, result.FailureDialect, redactor);
                    return;
                }
                if (failure.Kind == FailureKind.ClientError)
                {
                    // Another account would fail alike.
                    if (result.CoolDown) Record(selection, route, result);
                    await ErrorWriter.WriteUpstreamAsync(request.Http, request.Client, failure, result.FailureDialect, redactor);
                    return;
                }
                if (!result.CoolDown) continue; // about this request only (a token count): try the next, blame nobody
                if (failure.Kind == FailureKind.Transient && failure.Scope != FailureScope.Request)
                {
                    deferred = (route, result);
                    continue;
                }
                Record(selection, route, result);
            }

            if (bootstrapRounds > 0 && last.Failure is not null)
            {
                // streaming.bootstrap-retries: a stream that failed before its first byte gets another go on the credentials
                // this request tried, although that failure just cooled them down.
                bootstrapRounds--;
                foreach (var route in selection.Attempted)
                {
                    var result = await attempts.RunAsync(request, plugins, route);
                    RequestTrace.Note(request, result);
                    if (result.Outcome is AttemptOutcome.Served) selection.Succeeded(route, request.ResponseId);
                    if (result.Outcome is not (AttemptOutcome.FailedBeforeStart or AttemptOutcome.NoProvider)) return;
                    last = result;
                    if (result.CoolDown) Record(selection, route, result);
                }
                continue;
            }
            var until = selection.EarliestRecovery - scheduler.Clock.GetUtcNow();
            if (waitRounds > 0 && until is { } w && w <= TimeSpan.FromSeconds(settings.MaxRetryInterval))
            {
                waitRounds--;
                LogWaiting(candidates.RoutedModel, w.TotalSeconds);
                if (w > TimeSpan.Zero && !await DelayAsync(w, request)) return;
                selection.NewRound();
                continue;
            }
            break;
        }
        await GiveUpAsync(request, selection, candidates, last);
    }

    /// <summary>Records a failed attempt: cooldown by scope, and a token refresh after a 401.</summary>
    private void Record(Selection selection, ModelRoute route, AttemptResult result, bool force = false)
    {
        var failure = result.Failure!;
        // A 401 for tokens that were already replaced (a refresh finished meanwhile) says nothing about the credential now.
        var stale = failure.Kind == FailureKind.AuthRevoked && !refresher.IsCurrent(route.Credential);
        var cooldown = stale ? null : selection.Failed(route, failure, force);
        LogAttemptFailed(route.Credential.Provider, route.Credential.Label, failure.StatusCode, failure.Kind, failure.Scope, cooldown?.Until);
        if (failure.Kind == FailureKind.AuthRevoked && !stale)
            _ = refresher.RefreshWithOutcomeAsync(route.Credential);
    }

    private async Task<bool> DelayAsync(TimeSpan wait, ProxyRequest request)
    {
        try
        {
            await Task.Delay(wait, scheduler.Clock, request.Aborted);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task GiveUpAsync(ProxyRequest request, Selection selection, Candidates candidates, AttemptResult last)
    {
        var model = candidates.RoutedModel;
        if (last.Failure is { } failure)
        {
            await ErrorWriter.WriteUpstreamAsync(request.Http, request.Client, failure, last.FailureDialect, redactor);
            return;
        }
        if (selection.EarliestRecovery is { } until)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling((until - scheduler.Clock.GetUtcNow()).TotalSeconds));
            request.Http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var error = request.Client.Codec.EncodeError(429,
                $"All credentials for model '{model}' are cooling down; the first frees up in {FormatWait(seconds)} (at {until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}).",
                "model_cooldown");
            if (error["error"] is System.Text.Json.Nodes.JsonObject details)
            {
                details["model"] = model;
                details["reset_seconds"] = seconds;
                details["reset_time"] = until.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ");
            }
            await ErrorWriter.WriteJsonAsync(request.Http, 429, error);
            return;
        }
        var waiting = candidates.Routes.Select(r => health.Get(r.Credential.Id)).Where(s => s?.NeedsLogin == true).ToList();
        if (waiting.Count > 0)
        {
            // Say what to do, not just that it failed: the operator has to log in again.
            var commands = string.Join(", ", waiting.Select(s => s!.LoginCommand).Distinct());
            await ErrorWriter.WriteAsync(request.Http, request.Client, 503,
                $"Every credential for '{model}' needs a new login (the provider rejected its refresh token); run: {commands}.", "needs_login");
            return;
        }
        await ErrorWriter.WriteAsync(request.Http, request.Client, 503, $"No loaded provider plugin serves the credentials for '{model}'.");
    }

    private static string FormatWait(int seconds) => seconds < 120 ? $"{seconds}s" : seconds < 7200 ? $"{seconds / 60}m{seconds % 60}s" : $"{seconds / 3600}h{seconds % 3600 / 60}m";

    [LoggerMessage(LogLevel.Warning, "Upstream {Provider} via {Credential} failed with {Status} ({Kind}, {Scope} scope); cooling until {Until}; trying the next credential if any")]
    private partial void LogAttemptFailed(string provider, string credential, int status, FailureKind kind, FailureScope scope, DateTimeOffset? until);

    [LoggerMessage(LogLevel.Warning, "Upstream failure {Status} via {Credential} matched a request-scoped-errors rule: {Action}, no cooldown")]
    private partial void LogRuleMatched(string credential, int status, ErrorAction action);

    [LoggerMessage(LogLevel.Information, "Every credential for {Model} is cooling; retrying in {Seconds:0.#} s (max-retry-interval)")]
    private partial void LogWaiting(string model, double seconds);

    [LoggerMessage(LogLevel.Information, "Transient failure {Status} on {Credential}, the only candidate left; retrying it in {Milliseconds:0} ms (request-retry)")]
    private partial void LogTransientRetry(string credential, int status, double milliseconds);
}
