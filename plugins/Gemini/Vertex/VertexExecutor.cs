using System.Runtime.CompilerServices;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Plugins.Gemini.Upstream;

namespace PluginProxy.Plugins.Gemini.Vertex;

/// <summary>
/// Vertex AI. Service-account files: <c>{api-url}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}</c>
/// with a bearer token (<c>providers.vertex.api-url</c> is a template with <c>{location}</c>; <c>global</c> uses the
/// global host). <c>vertex-api-key</c> entries (Vertex-compatible gateways): <c>{base-url}/v1/publishers/google/models/{model}:{method}</c>
/// with <c>x-goog-api-key</c>. Everything else is the Gemini API executor's.
/// </summary>
internal sealed class VertexExecutor(IReadOnlyList<ModelInfo> catalog) : GeminiApiExecutor(catalog)
{
    public const string ApiUrl = "https://{location}-aiplatform.googleapis.com";
    private const string GlobalUrl = "https://aiplatform.googleapis.com";

    private static bool IsApiKey(UpstreamCall call) => !string.IsNullOrEmpty(call.Credential.ApiKey);

    private static ServiceAccount Account(UpstreamCall call) =>
        ServiceAccount.From(call.Credential)
        ?? throw new UpstreamException(FailureKind.AuthRevoked, 401, $"{call.Credential.Label} is not a usable Vertex service account (needs client_email, private_key and project_id)")
        { Scope = FailureScope.Credential };

    protected override string BaseUrl(UpstreamCall call)
    {
        if (IsApiKey(call)) return call.Credential.BaseUrl ?? throw new UpstreamException(FailureKind.Forbidden, 400, "vertex-api-key entry without base-url");
        var location = Account(call).Location;
        var template = call.Settings.GetString("api-url");
        if (string.IsNullOrWhiteSpace(template))
            return location == "global" ? GlobalUrl : ApiUrl.Replace("{location}", location, StringComparison.Ordinal);
        return template.Trim().Replace("{location}", Uri.EscapeDataString(location), StringComparison.Ordinal);
    }

    protected override string ModelPath(UpstreamCall call)
    {
        var model = Uri.EscapeDataString(call.UpstreamModel);
        if (IsApiKey(call)) return $"v1/publishers/google/models/{model}";
        var account = Account(call);
        return $"v1/projects/{Uri.EscapeDataString(account.ProjectId)}/locations/{Uri.EscapeDataString(account.Location)}/publishers/google/models/{model}";
    }

    protected override void Authorize(UpstreamCall call, HttpRequestMessage request)
    {
        if (IsApiKey(call))
        {
            base.Authorize(call, request);
            return;
        }
        // The token was fetched by the entry point before the request was built; it cannot expire in between
        // (the cache hands out only tokens with minutes left).
        var token = VertexTokens.Cached(call, Account(call))
            ?? throw new UpstreamException(FailureKind.Transient, 502, "Vertex access token not available");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
    }

    private static Task EnsureTokenAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        IsApiKey(call) ? Task.CompletedTask : VertexTokens.EnsureAsync(call, Account(call), cancellationToken);

    public override async Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        await EnsureTokenAsync(call, cancellationToken).ConfigureAwait(false);
        return await base.CompleteAsync(call, request, cancellationToken).ConfigureAwait(false);
    }

    public override async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTokenAsync(call, cancellationToken).ConfigureAwait(false);
        await foreach (var item in base.StreamAsync(call, request, cancellationToken).ConfigureAwait(false)) yield return item;
    }

    public override async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        await EnsureTokenAsync(call, cancellationToken).ConfigureAwait(false);
        return await base.SendNativeAsync(call, request, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        await EnsureTokenAsync(call, cancellationToken).ConfigureAwait(false);
        return await base.CountTokensAsync(call, request, cancellationToken).ConfigureAwait(false);
    }
}
