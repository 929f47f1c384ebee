using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// <c>login gemini</c>: Google's installed-app OAuth with the Gemini CLI's client, then the account's email, its Cloud
/// projects, Code Assist onboarding of the chosen ones and the Cloud AI Companion API check. The credential is returned
/// only when every step succeeded; a failing step throws a message naming the step, so nothing is written.
/// </summary>
internal static class GeminiCliLogin
{
    /// <summary>How often <c>onboardUser</c> is asked again until Google reports the operation done, and how many times.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    internal const int MaxPolls = 60;

    public static async Task<LoginResult> RunAsync(LoginContext context, CancellationToken cancellationToken)
    {
        var output = context.Output;
        var settings = context.Settings;
        var tokenClient = GeminiCliAuthenticator.TokenClient(settings, context.Clock);

        // Step 1: the browser (a local callback on 8085/oauth2callback, or the pasted redirect URL).
        var code = await AuthorizationCodeFlow.RunAsync(context, new AuthorizationRequest
        {
            AuthorizeUrl = GeminiSettings.Get(settings, "auth-url", GeminiSettings.AuthUrl),
            ClientId = GeminiCliOAuth.ClientId,
            Scope = string.Join(' ', GeminiCliOAuth.Scopes),
            DisplayName = "Google (Gemini CLI)",
            CallbackPath = GeminiCliOAuth.CallbackPath,
            CallbackPort = GeminiCliOAuth.CallbackPort,
            ExtraParameters = [new("access_type", "offline"), new("prompt", "consent")],
        }, cancellationToken).ConfigureAwait(false);

        // Step 2: the token exchange (form body with the installed-app secret).
        var tokens = await tokenClient.ExchangeCodeAsync(context.Http, code, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (tokens.RefreshToken is null)
            throw new OAuthException("Google returned no refresh token (the consent screen must be shown: revoke the app's access at myaccount.google.com and log in again)");

        var api = new GoogleLoginApi(context, tokens.AccessToken);
        // Step 3: who logged in.
        var email = await api.EmailAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Signed in to Google as {email}.").ConfigureAwait(false);

        // Step 4: which projects.
        var projects = await api.ProjectsAsync(cancellationToken).ConfigureAwait(false);
        var choice = await ProjectChoice.ChooseAsync(context, projects, cancellationToken).ConfigureAwait(false);

        // Steps 5-7 per project: loadCodeAssist, onboardUser until done, the Cloud AI Companion API.
        var onboarded = new List<string>();
        foreach (var requested in choice.Projects)
            onboarded.Add(await SetUpProjectAsync(context, api, email, requested, cancellationToken).ConfigureAwait(false));

        var file = new JsonObject();
        GeminiCliAuthenticator.ApplyTokens(file, tokens, null);
        var token = (JsonObject)file["token"]!;
        token["token_uri"] = tokenClient.TokenEndpoint;
        token["client_id"] = GeminiCliOAuth.ClientId;
        token["client_secret"] = GeminiCliOAuth.ClientSecret; // the Gemini CLI's public installed-app secret, as CLIProxyAPI writes it
        token["scopes"] = new JsonArray([.. GeminiCliOAuth.Scopes.Select(s => (JsonNode)JsonValue.Create(s))]);
        token["universe_domain"] = "googleapis.com";
        var projectIds = string.Join(',', onboarded.Distinct(StringComparer.Ordinal));
        file["project_id"] = projectIds;
        file["email"] = email;
        file["auto"] = choice.Auto;
        file["checked"] = true;
        file["type"] = "gemini";

        var name = onboarded.Distinct(StringComparer.Ordinal).Count() > 1 ? $"gemini-{email}-all.json" : $"{email}-{onboarded[0]}.json";
        return new LoginResult(name, file, $"{email} [{projectIds}]");
    }

    /// <summary>Onboards one project (or, with null, the project Google names for the account); returns the project id to use.</summary>
    private static async Task<string> SetUpProjectAsync(LoginContext context, GoogleLoginApi api, string email, string? requested, CancellationToken cancellationToken)
    {
        var label = requested ?? "the account's default project";
        var load = await api.LoadCodeAssistAsync(requested, cancellationToken).ConfigureAwait(false);
        if (!load.IsSuccess && Ineligibility.InErrorBody(load.Text))
            throw Ineligibility.Refused(email, label, load.Describe());
        var loaded = load.Require($"loading Code Assist for {label} (loadCodeAssist)");
        if (Ineligibility.InLoadAnswer(loaded) is { } reason) throw Ineligibility.Refused(email, label, reason);

        var tier = (loaded["allowedTiers"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(t => t["isDefault"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)
            is { } defaultTier ? GoogleLoginApi.Text(defaultTier["id"]) : null;
        tier ??= "legacy-tier";
        var project = requested ?? ProjectOf(loaded["cloudaicompanionProject"])
            ?? throw new OAuthException($"project selection required: Google named no Code Assist project for {email} and none was chosen; pass --project-id ID");

        for (var attempt = 1; ; attempt++)
        {
            var onboard = await api.OnboardUserAsync(tier, project, cancellationToken).ConfigureAwait(false);
            if (!onboard.IsSuccess && Ineligibility.InErrorBody(onboard.Text))
                throw Ineligibility.Refused(email, project, onboard.Describe());
            var operation = onboard.Require($"onboarding project {project} to Gemini Code Assist (onboardUser, tier {tier})");
            if (operation["done"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)
            {
                // A project the user named is kept even when Google's answer names another (CLIProxyAPI asks only free users, who can no longer log in).
                if (requested is null && ProjectOf((operation["response"] as JsonObject)?["cloudaicompanionProject"]) is { } backend) project = backend;
                break;
            }
            if (attempt >= MaxPolls)
                throw new OAuthException($"onboarding project {project} to Gemini Code Assist did not finish after {MaxPolls} checks; run login again later");
            await context.Output.WriteLineAsync($"Onboarding project {project} to Gemini Code Assist (tier {tier}): not done yet, checking again in {PollInterval.TotalSeconds:0} s (check {attempt}).")
                .ConfigureAwait(false);
            await Task.Delay(PollInterval, context.Clock, cancellationToken).ConfigureAwait(false);
        }

        if (await api.EnsureCompanionApiAsync(project, cancellationToken).ConfigureAwait(false))
            await context.Output.WriteLineAsync($"Enabled the Cloud AI Companion API on project {project}.").ConfigureAwait(false);
        await context.Output.WriteLineAsync($"Project {project} is ready for Gemini CLI.").ConfigureAwait(false);
        return project;
    }

    // Google gives a project as a string or as {"id": ..., "name": ...}.
    private static string? ProjectOf(JsonNode? node) => node is JsonObject o ? GoogleLoginApi.Text(o["id"]) : GoogleLoginApi.Text(node);
}

/// <summary>Google's refusal of individual, free and Google One accounts (since 2026-06-18), said in plain words.</summary>
internal static class Ineligibility
{
    public static bool InErrorBody(string body) =>
        body.Contains("UNSUPPORTED_CLIENT", StringComparison.Ordinal) || body.Contains("INELIGIBLE", StringComparison.OrdinalIgnoreCase);

    /// <summary>A loadCodeAssist answer with no tier the account may use and at least one it may not: the reason Google gave.</summary>
    public static string? InLoadAnswer(JsonObject answer)
    {
        if (answer["currentTier"] is JsonObject) return null;
        if (answer["allowedTiers"] is JsonArray { Count: > 0 }) return null;
        if (answer["ineligibleTiers"] is not JsonArray { Count: > 0 } ineligible) return null;
        var reasons = ineligible.OfType<JsonObject>()
            .Select(t => string.Join(": ", new[] { GoogleLoginApi.Text(t["reasonCode"]), GoogleLoginApi.Text(t["reasonMessage"]) }.Where(s => s is not null)))
            .Where(s => s.Length > 0).Distinct().ToList();
        return reasons.Count == 0 ? "no eligible tier" : string.Join("; ", reasons);
    }

    public static OAuthException Refused(string email, string project, string reason) => new(
        $"Google does not allow Gemini CLI for {email} ({project}): {reason}. Since 2026-06-18 individual, free and Google One accounts " +
        "can no longer sign in to Gemini CLI. What still works: a Gemini API key (gemini-api-key in config.yaml), or a Google account " +
        "with Gemini Code Assist Standard or Enterprise. Nothing was saved.");
}
