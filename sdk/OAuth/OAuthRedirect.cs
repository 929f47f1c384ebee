namespace PluginProxy.Sdk.OAuth;

/// <summary>
/// What an authorization server sent back to the redirect URI: a <c>code</c> and <c>state</c>, or an <c>error</c>.
/// <see cref="ToString"/> never prints the code.
/// </summary>
public sealed record OAuthRedirect(string? Code, string? State, string? Error, string? ErrorDescription)
{
    /// <summary>Reads the parameters of a redirect URL's query string (with or without the leading <c>?</c>).</summary>
    public static OAuthRedirect FromQuery(string query)
    {
        var values = ParseQuery(query);
        return new OAuthRedirect(values.GetValueOrDefault("code"), values.GetValueOrDefault("state"),
            values.GetValueOrDefault("error"), values.GetValueOrDefault("error_description"));
    }

    /// <summary>
    /// Reads what a user pasted: a full redirect URL (parameters in the query or the fragment), a bare query string
    /// (<c>code=...&amp;state=...</c>, with or without <c>?</c>), or <c>code#state</c> as some providers' pages show it.
    /// False when the text carries neither a code nor an error.
    /// </summary>
    public static bool TryParse(string? text, out OAuthRedirect redirect)
    {
        redirect = new OAuthRedirect(null, null, null, null);
        var value = text?.Trim().Trim('"', '\'') ?? "";
        if (value.Length == 0) return false;
        if (value.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)) return false;
            redirect = FromQuery(uri.Query);
            if (redirect.Code is null && redirect.Error is null) redirect = FromQuery(uri.Fragment.TrimStart('#'));
        }
        else if (value.Contains('='))
        {
            redirect = FromQuery(value.TrimStart('?', '#'));
        }
        else
        {
            redirect = new OAuthRedirect(value, null, null, null);
        }
        // "code#state": Anthropic's console shows both joined; a pasted query may carry them joined in code= as well.
        if (redirect is { Code: { } code, State: null } && code.IndexOf('#') is var hash and > 0 && hash < code.Length - 1)
            redirect = redirect with { Code = code[..hash], State = code[(hash + 1)..] };
        return redirect.Code is not null || redirect.Error is not null;
    }

    /// <summary>
    /// The code, if the redirect is a success for <paramref name="expectedState"/>; otherwise an
    /// <see cref="OAuthException"/> that says why (consent denied, a provider error, no code, state mismatch).
    /// </summary>
    public string CodeFor(string expectedState)
    {
        if (Error is not null)
        {
            var detail = string.IsNullOrWhiteSpace(ErrorDescription) ? "" : $": {Clip(ErrorDescription)}";
            throw Error == "access_denied"
                ? new OAuthException($"consent was denied in the browser (access_denied{detail})", error: Error)
                : new OAuthException($"the provider answered the login with an error: {Clip(Error)}{detail}", error: Error);
        }
        if (string.IsNullOrEmpty(Code)) throw new OAuthException("the callback carried no authorization code");
        if (string.IsNullOrEmpty(State)) throw new OAuthException("the callback carried no state; refused (paste the whole redirect URL)");
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(State), System.Text.Encoding.UTF8.GetBytes(expectedState)))
            throw new OAuthException("state mismatch: the callback does not belong to this login; refused");
        return Code;
    }

    public override string ToString() => Error is null
        ? $"OAuthRedirect(code {(Code is null ? "absent" : "present")}, state {(State is null ? "absent" : "present")})"
        : $"OAuthRedirect(error {Error})";

    internal static string Clip(string text) => text.Length <= 300 ? text : text[..300] + "...";

    internal static Dictionary<string, string> ParseQuery(string query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            // The first occurrence wins, so a parameter appended later cannot override the provider's.
            values.TryAdd(name, eq < 0 ? "" : Decode(pair[(eq + 1)..]));
        }
        return values;

        static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
    }
}
