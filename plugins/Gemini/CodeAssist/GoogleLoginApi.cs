using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// The Google calls of <c>login gemini</c> after the token exchange, each with the new bearer token. A failure throws an
/// <see cref="OAuthException"/> that names the step and Google's reason (never the token), so the login writes nothing.
/// </summary>
internal sealed class GoogleLoginApi(LoginContext context, string accessToken)
{
    private const string CompanionService = "cloudaicompanion.googleapis.com";
    private readonly PluginSettings _settings = context.Settings;

    public string UserInfoUrl => GeminiSettings.Get(_settings, "userinfo-url", GeminiSettings.UserInfoUrl);
    public string ProjectsUrl => GeminiSettings.Get(_settings, "projects-url", GeminiSettings.ProjectsUrl);
    public string CodeAssistUrl => GeminiSettings.Get(_settings, "code-assist-url", GeminiSettings.CodeAssistUrl).TrimEnd('/');
    public string ServiceUsageUrl => GeminiSettings.Get(_settings, "service-usage-url", GeminiSettings.ServiceUsageUrl).TrimEnd('/');

    /// <summary>The account's email from the userinfo endpoint.</summary>
    public async Task<string> EmailAsync(CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, UserInfoUrl, null, false, cancellationToken).ConfigureAwait(false);
        var body = answer.Require("reading the account's email (userinfo)");
        return Text(body["email"]) ?? throw new OAuthException("reading the account's email (userinfo) failed: the answer has no email");
    }

    /// <summary>The Cloud projects the account can see, following <c>nextPageToken</c>.</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> ProjectsAsync(CancellationToken cancellationToken)
    {
        var projects = new List<(string, string)>();
        string? page = null;
        do
        {
            var url = page is null ? ProjectsUrl : ProjectsUrl + (ProjectsUrl.Contains('?') ? '&' : '?') + "pageToken=" + Uri.EscapeDataString(page);
            var answer = await SendAsync(HttpMethod.Get, url, null, false, cancellationToken).ConfigureAwait(false);
            var body = answer.Require("listing Google Cloud projects (Cloud Resource Manager)");
            if (body["projects"] is JsonArray list)
                foreach (var item in list.OfType<JsonObject>())
                    if (Text(item["projectId"]) is { } id && Text(item["lifecycleState"]) is null or "ACTIVE")
                        projects.Add((id, Text(item["name"]) ?? id));
            page = Text(body["nextPageToken"]);
        }
        while (page is not null && projects.Count < 10_000);
        return projects;
    }

    /// <summary><c>v1internal:loadCodeAssist</c> for a project (null: let Google name the account's own).</summary>
    public Task<GoogleAnswer> LoadCodeAssistAsync(string? project, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["metadata"] = Metadata() };
        if (project is not null) body["cloudaicompanionProject"] = project;
        return SendAsync(HttpMethod.Post, $"{CodeAssistUrl}/v1internal:loadCodeAssist", body, true, cancellationToken);
    }

    /// <summary>One <c>v1internal:onboardUser</c> call (a long-running operation: repeated until <c>done</c>).</summary>
    public Task<GoogleAnswer> OnboardUserAsync(string tierId, string? project, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["tierId"] = tierId, ["metadata"] = Metadata() };
        if (project is not null) body["cloudaicompanionProject"] = project;
        return SendAsync(HttpMethod.Post, $"{CodeAssistUrl}/v1internal:onboardUser", body, true, cancellationToken);
    }

    /// <summary>
    /// Makes sure the Cloud AI Companion API is enabled on the project (Service Usage), enabling it when it is not.
    /// Returns true when it had to be enabled.
    /// </summary>
    public async Task<bool> EnsureCompanionApiAsync(string project, CancellationToken cancellationToken)
    {
        var service = $"{ServiceUsageUrl}/v1/projects/{Uri.EscapeDataString(project)}/services/{CompanionService}";
        var step = $"checking the Cloud AI Companion API ({CompanionService}) on project {project}";
        var state = await SendAsync(HttpMethod.Get, service, null, false, cancellationToken).ConfigureAwait(false);
        if (Text(state.Require(step)["state"]) == "ENABLED") return false;

        var enable = await SendAsync(HttpMethod.Post, service + ":enable", new JsonObject(), false, cancellationToken).ConfigureAwait(false);
        if (enable.Status == 400 && enable.Text.Contains("already enabled", StringComparison.OrdinalIgnoreCase)) return true;
        enable.Require($"enabling the Cloud AI Companion API ({CompanionService}) on project {project} (the project must allow it; enable it in the Cloud console)");
        return true;
    }

    private static JsonObject Metadata() => new()
    {
        ["ideType"] = "IDE_UNSPECIFIED",
        ["platform"] = "PLATFORM_UNSPECIFIED",
        ["pluginType"] = "GEMINI",
    };

    private async Task<GoogleAnswer> SendAsync(HttpMethod method, string url, JsonObject? body, bool codeAssist, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.ParseAdd("application/json");
        if (codeAssist) CodeAssistHeaders.Apply(request, _settings);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var host = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : url;
        try
        {
            using var response = await context.Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new GoogleAnswer((int)response.StatusCode, text, accessToken);
        }
        catch (HttpRequestException e)
        {
            throw new OAuthException($"cannot reach {host} ({e.HttpRequestError})", inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException($"{host} did not answer in time", inner: e);
        }
    }

    internal static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;
}

/// <summary>One Google answer, kept as text for the messages.</summary>
internal sealed class GoogleAnswer(int status, string text, string accessToken)
{
    public int Status { get; } = status;
    public string Text { get; } = text;
    public bool IsSuccess => Status is >= 200 and < 300;

    public JsonObject? Json
    {
        get
        {
            try
            {
                return JsonNode.Parse(Text) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>The JSON body of a success; otherwise an <see cref="OAuthException"/> "step failed: HTTP n: Google's message".</summary>
    public JsonObject Require(string step)
    {
        if (IsSuccess && Json is { } body) return body;
        throw new OAuthException($"{step} failed: {Describe()}", Status);
    }

    /// <summary>"HTTP 403: PERMISSION_DENIED: message", clipped, with the token scrubbed in case an answer echoes it.</summary>
    public string Describe()
    {
        var text = new StringBuilder($"HTTP {Status}");
        var error = Json?["error"];
        var status = error is JsonObject e ? GoogleLoginApi.Text(e["status"]) : GoogleLoginApi.Text(error);
        var message = error is JsonObject o ? GoogleLoginApi.Text(o["message"]) : GoogleLoginApi.Text(Json?["error_description"]);
        if (status is not null) text.Append(": ").Append(status);
        if (message is not null) text.Append(": ").Append(message.Length <= 300 ? message : message[..300] + "...");
        if (status is null && message is null) text.Append(IsSuccess ? " (not a JSON object)" : $" ({Text.Length} characters without a Google error)");
        return text.ToString().Replace(accessToken, "[redacted]", StringComparison.Ordinal);
    }
}
