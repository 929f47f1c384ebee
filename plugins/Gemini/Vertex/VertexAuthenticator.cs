using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.Vertex;

/// <summary>
/// <c>login vertex --key-file sa.json [--location L] [--project-id P]</c> (alias <c>import vertex sa.json</c>): turns a
/// service-account key into a Vertex credential file, offline. Tokens are minted per process from the key, so there is
/// nothing to refresh; a refresh (after Google rejected a token) only drops the cached one.
/// </summary>
internal sealed class VertexAuthenticator : IAuthenticator
{
    public TimeSpan? RefreshLead => null;

    public async Task<LoginResult> LoginAsync(LoginContext context, CancellationToken cancellationToken)
    {
        if (!context.Options.TryGetValue("key-file", out var path) || string.IsNullOrWhiteSpace(path) || path == "true")
            throw new InvalidOperationException("login vertex needs --key-file <service-account.json>");
        JsonObject key;
        try
        {
            key = JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)) as JsonObject
                ?? throw new InvalidOperationException($"{path} is not a JSON object");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidOperationException($"cannot read the service account key {path}: {e.GetType().Name}");
        }
        var email = Text(key, "client_email") ?? throw new InvalidOperationException($"{path} has no client_email");
        var pem = Text(key, "private_key") ?? throw new InvalidOperationException($"{path} has no private_key");
        if (!ServiceAccount.IsRsaKey(pem)) throw new InvalidOperationException($"{path}: private_key is not an RSA private key");
        var project = Option(context, "project-id") ?? Text(key, "project_id") ?? throw new InvalidOperationException($"{path} has no project_id (pass --project-id)");
        var location = Option(context, "location") ?? ServiceAccount.DefaultLocation;

        key["private_key"] = ServiceAccount.NormalizePem(pem) + "\n";
        var content = new JsonObject
        {
            ["service_account"] = key,
            ["project_id"] = project,
            ["email"] = email,
            ["location"] = location,
            ["type"] = "vertex",
        };
        var safe = project.Replace('/', '_').Replace('\\', '_').Replace(':', '_').Replace(' ', '-');
        await context.Output.WriteLineAsync($"Vertex service account {email}, project {project}, location {location}").ConfigureAwait(false);
        return new LoginResult($"vertex-{safe}.json", content, email);
    }

    public Task<JsonObject> RefreshAsync(RefreshContext context, CancellationToken cancellationToken)
    {
        VertexTokens.Forget(context.Credential.Id);
        return Task.FromResult(JsonNode.Parse(context.Credential.Metadata.GetRawText()) as JsonObject ?? []);
    }

    private static string? Option(LoginContext context, string name) =>
        context.Options.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) && value != "true" ? value.Trim() : null;

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;
}
