using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Formats;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Endpoints;

/// <summary>
/// The inference routes of the four dialects; each describes the request and hands it to <see cref="ProxyHandler"/>.
/// The handlers are plain request delegates so routing plugins' aliases (<see cref="Handler"/>) serve through the same code.
/// </summary>
internal static class InferenceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", ChatCompletions);
        app.MapPost("/v1/completions", Completions);
        app.MapPost("/v1/responses", Responses);
        app.MapPost("/v1/responses/compact", ResponsesCompact);
        // Codex CLI tries a WebSocket first; 426 makes it fall back to SSE at once (404/500 cost it six retries).
        app.MapGet("/v1/responses", (HttpContext http) => ErrorWriter.WriteAsync(http, ClientDialect.OpenAIResponses, 426,
            "WebSocket transport is not supported on /v1/responses; use HTTP with stream: true."));
        app.MapPost("/v1/messages", Messages);
        app.MapPost("/v1/messages/count_tokens", CountTokens);
        app.MapPost("/v1beta/models/{**action}", GeminiAction);
    }

    /// <summary>The handler of an inference endpoint kind, or null for the kinds <see cref="ModelEndpoints"/> serves.</summary>
    public static RequestDelegate? Handler(EndpointKind kind) => kind switch
    {
        EndpointKind.ChatCompletions => ChatCompletions,
        EndpointKind.Completions => Completions,
        EndpointKind.Responses => Responses,
        EndpointKind.Messages => Messages,
        EndpointKind.CountTokens => CountTokens,
        EndpointKind.GeminiModelAction => GeminiAction,
        _ => null,
    };

    private static Task ChatCompletions(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.OpenAIChat, Operation.Generate));

    private static Task Completions(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.Completions, Operation.Generate, NonStreamKeepAlive: true));

    /// <summary>Codex compaction (v1): only an account whose plugin speaks Responses natively can serve it, as passthrough.</summary>
    private static Task ResponsesCompact(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.OpenAIResponses, Operation.Generate, UrlStream: false,
            NativeOperation: "compact", PassthroughOnly: true));

    private static Task Responses(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.OpenAIResponses, Operation.Generate, NonStreamKeepAlive: true));

    private static Task Messages(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.Anthropic, Operation.Generate, NonStreamKeepAlive: true));

    private static Task CountTokens(HttpContext http) =>
        Proxy(http).HandleAsync(http, new InferenceRequest(ClientDialect.Anthropic, Operation.CountTokens, NativeOperation: "count_tokens"));

    private static ProxyHandler Proxy(HttpContext http) => http.RequestServices.GetRequiredService<ProxyHandler>();

    /// <summary><c>{model}:{method}</c> with method generateContent, streamGenerateContent or countTokens, from the <c>{**action}</c> route value.</summary>
    private static Task GeminiAction(HttpContext http)
    {
        var (model, method) = SplitAction(http.Request.RouteValues["action"] as string ?? "");
        var alt = http.Request.Query["alt"].ToString();
        if (string.IsNullOrEmpty(alt)) alt = http.Request.Query["$alt"].ToString();
        var proxy = Proxy(http);
        return method switch
        {
            "generateContent" => proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Gemini, Operation.Generate, model, UrlStream: false, NativeOperation: method, NonStreamKeepAlive: true)),
            "streamGenerateContent" => proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Gemini, Operation.Generate, model, UrlStream: true,
                Framing: alt.Equals("sse", StringComparison.OrdinalIgnoreCase) ? StreamFraming.Sse : StreamFraming.JsonArray, NativeOperation: method)),
            "countTokens" => proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Gemini, Operation.CountTokens, model, UrlStream: false, NativeOperation: method)),
            _ => ErrorWriter.WriteAsync(http, ClientDialect.Gemini, 404,
                $"Unknown method '{method}' for models/{model}; supported: generateContent, streamGenerateContent, countTokens."),
        };
    }

    /// <summary>
    /// Splits an action into model and method. An alias's catch-all may hold more of the path than the built-in route's
    /// (<c>models/m:method</c>, <c>publishers/google/models/m:method</c>, a leading slash): the model is what follows the last <c>models/</c>.
    /// </summary>
    internal static (string Model, string Method) SplitAction(string action)
    {
        action = action.TrimStart('/');
        var colon = action.LastIndexOf(':');
        // models/:generateContent (no model) keeps its method, so it gets "no model" rather than "unknown method".
        var model = colon >= 0 ? action[..colon] : "";
        var method = colon >= 0 ? action[(colon + 1)..] : "";
        var models = model.LastIndexOf("models/", StringComparison.Ordinal);
        if (models >= 0 && (models == 0 || model[models - 1] == '/')) model = model[(models + "models/".Length)..];
        return (model, method);
    }
}
