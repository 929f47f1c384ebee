using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PluginProxy.Formats;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Endpoints;

/// <summary>The inference routes of the four dialects; each describes the request and hands it to <see cref="ProxyHandler"/>.</summary>
internal static class InferenceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", (HttpContext http, ProxyHandler proxy) =>
            proxy.HandleAsync(http, new InferenceRequest(ClientDialect.OpenAIChat, Operation.Generate)));
        app.MapPost("/v1/completions", (HttpContext http, ProxyHandler proxy) =>
            proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Completions, Operation.Generate, NonStreamKeepAlive: true)));
        app.MapPost("/v1/responses", (HttpContext http, ProxyHandler proxy) =>
            proxy.HandleAsync(http, new InferenceRequest(ClientDialect.OpenAIResponses, Operation.Generate, NonStreamKeepAlive: true)));
        // Codex CLI tries a WebSocket first; 426 makes it fall back to SSE at once (404/500 cost it six retries).
        app.MapGet("/v1/responses", (HttpContext http) => ErrorWriter.WriteAsync(http, ClientDialect.OpenAIResponses, 426,
            "WebSocket transport is not supported on /v1/responses; use HTTP with stream: true."));
        app.MapPost("/v1/messages", (HttpContext http, ProxyHandler proxy) =>
            proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Anthropic, Operation.Generate, NonStreamKeepAlive: true)));
        app.MapPost("/v1/messages/count_tokens", (HttpContext http, ProxyHandler proxy) =>
            proxy.HandleAsync(http, new InferenceRequest(ClientDialect.Anthropic, Operation.CountTokens, NativeOperation: "count_tokens")));
        app.MapPost("/v1beta/models/{**action}", (HttpContext http, string action, ProxyHandler proxy) => GeminiAction(http, action, proxy));
    }

    /// <summary><c>{model}:{method}</c> with method generateContent, streamGenerateContent or countTokens.</summary>
    private static Task GeminiAction(HttpContext http, string action, ProxyHandler proxy)
    {
        var colon = action.LastIndexOf(':');
        // models/:generateContent (no model) keeps its method, so it gets "no model" rather than "unknown method".
        var model = colon >= 0 ? action[..colon] : "";
        var method = colon >= 0 ? action[(colon + 1)..] : "";
        if (model.StartsWith("models/", StringComparison.Ordinal)) model = model["models/".Length..];
        var alt = http.Request.Query["alt"].ToString();
        if (string.IsNullOrEmpty(alt)) alt = http.Request.Query["$alt"].ToString();
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
}
