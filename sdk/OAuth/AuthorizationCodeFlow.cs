using System.Text;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Sdk.OAuth;

/// <summary>
/// The browser step of an authorization-code login (RFC 6749 §4.1 with PKCE): start the loopback listener, print and
/// open the authorize URL, then wait for the callback, offering after <see cref="LoginContext.PasteAfter"/> to paste
/// the redirect URL instead (whichever comes first wins), all within <see cref="LoginContext.Timeout"/>.
/// </summary>
public static class AuthorizationCodeFlow
{
    /// <summary>Runs the browser step. Throws <see cref="OAuthException"/> with a clear message on any failure.</summary>
    public static async Task<AuthorizationCode> RunAsync(LoginContext context, AuthorizationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var pkce = request.UsePkce ? Pkce.Create(request.VerifierBytes) : null;
        var state = Pkce.CreateState();
        await using var server = LoopbackCallbackServer.Start(context.CallbackPort ?? request.CallbackPort, request.CallbackPath, state, request.DisplayName);
        var redirectUri = request.RedirectUri ?? $"http://{request.RedirectHost}:{server.Port}{server.Path}";
        var url = BuildAuthorizeUrl(request, redirectUri, state, pkce);

        var output = context.Output;
        await output.WriteLineAsync($"Open this URL to log in to {request.DisplayName}:\n\n  {url}\n").ConfigureAwait(false);
        if (context.NoBrowser)
            await output.WriteLineAsync($"On a remote machine, forward the callback port first: ssh -L {server.Port}:127.0.0.1:{server.Port} <user>@<host>").ConfigureAwait(false);
        else if (context.OpenBrowser?.Invoke(url) != true)
            await output.WriteLineAsync("Could not open a browser; open the URL above yourself.").ConfigureAwait(false);
        await output.WriteLineAsync($"Waiting for the browser to come back to {server.LocalUrl} ...").ConfigureAwait(false);

        using var timeout = new CancellationTokenSource(context.Timeout, context.Clock);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var paste = PasteAsync(context, request.DisplayName, state, wait.Token);
            var first = await Task.WhenAny(server.Code, paste).WaitAsync(wait.Token).ConfigureAwait(false);
            var code = await first.ConfigureAwait(false);
            return new AuthorizationCode(code, pkce?.Verifier, redirectUri, state);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException($"no callback from the browser within {Describe(context.Timeout)}; run login again");
        }
        finally
        {
            await wait.CancelAsync().ConfigureAwait(false); // stops the paste prompt if the callback won
        }
    }

    /// <summary>The authorize URL: standard parameters, then <see cref="AuthorizationRequest.ExtraParameters"/>.</summary>
    public static string BuildAuthorizeUrl(AuthorizationRequest request, string redirectUri, string state, PkcePair? pkce)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (request.ResponseType is { } responseType) parameters.Add(new("response_type", responseType));
        parameters.Add(new("client_id", request.ClientId));
        parameters.Add(new(request.RedirectParameterName, redirectUri));
        if (request.Scope is { } scope) parameters.Add(new("scope", scope));
        parameters.Add(new("state", state));
        if (pkce is not null)
        {
            parameters.Add(new("code_challenge", pkce.Challenge));
            parameters.Add(new("code_challenge_method", PkcePair.Method));
        }
        parameters.AddRange(request.ExtraParameters);
        var url = new StringBuilder(request.AuthorizeUrl);
        var separator = request.AuthorizeUrl.Contains('?') ? '&' : '?';
        foreach (var (name, value) in parameters)
        {
            url.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }
        return url.ToString();
    }

    // Completes only with a pasted code that passes the state check; without a terminal it never completes.
    private static async Task<string> PasteAsync(LoginContext context, string displayName, string state, CancellationToken cancellationToken)
    {
        await Task.Yield(); // a ReadLine that blocks must not hold up the caller, even with PasteAfter zero
        await Task.Delay(context.PasteAfter, context.Clock, cancellationToken).ConfigureAwait(false);
        if (context.ReadLine is { } readLine)
        {
            await context.Output.WriteLineAsync(
                $"No callback yet. If the browser cannot reach this machine, paste the {displayName} redirect URL (or code#state) here and press Enter; or keep waiting.")
                .ConfigureAwait(false);
            while (await readLine(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (OAuthRedirect.TryParse(line, out var redirect) && (redirect.Error is not null || redirect.State is not null))
                    return redirect.CodeFor(state);
                await context.Output.WriteLineAsync("That is not a redirect URL with a code and state; paste the whole URL from the browser's address bar.")
                    .ConfigureAwait(false);
            }
        }
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        throw new OperationCanceledException(cancellationToken);
    }

    internal static string Describe(TimeSpan span) => span.TotalMinutes >= 1 && span.Seconds == 0
        ? $"{(int)span.TotalMinutes} minute{(span.TotalMinutes >= 2 ? "s" : "")}"
        : span.TotalSeconds >= 1 ? $"{(int)span.TotalSeconds} seconds" : $"{(int)span.TotalMilliseconds} ms";
}
