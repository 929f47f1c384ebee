using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Models;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Host.Endpoints;

/// <summary>Model listings in each dialect's shape, sorted by id (CLIProxyAPI's are in random order).</summary>
internal static class ModelEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", OpenAIModels);
        app.MapGet("/v1beta/models", GeminiModels);
        app.MapGet("/v1beta/models/{**name}", GeminiModel);
    }

    /// <summary>The handler of a listing endpoint kind, or null for the kinds <see cref="InferenceEndpoints"/> serves.</summary>
    public static RequestDelegate? Handler(EndpointKind kind) => kind switch
    {
        EndpointKind.OpenAIModels => OpenAIModels,
        EndpointKind.AnthropicModels => AnthropicModels,
        EndpointKind.GeminiModels => GeminiModels,
        EndpointKind.GeminiModel => GeminiModel,
        _ => null,
    };

    private static Task OpenAIModels(HttpContext http)
    {
        var models = Registry(http).Current.Models;
        // Claude Code lists models with the OpenAI path but expects Anthropic's shape.
        var body = http.Request.Headers.UserAgent.ToString().StartsWith("claude-cli", StringComparison.OrdinalIgnoreCase)
            ? AnthropicList(models)
            : OpenAIList(models);
        return ErrorWriter.WriteJsonAsync(http, 200, body);
    }

    private static Task AnthropicModels(HttpContext http) => ErrorWriter.WriteJsonAsync(http, 200, AnthropicList(Registry(http).Current.Models));

    private static Task GeminiModels(HttpContext http) =>
        ErrorWriter.WriteJsonAsync(http, 200, new JsonObject { ["models"] = new JsonArray([.. Registry(http).Current.Models.Select(GeminiModel)]) });

    /// <summary>One model, named by the <c>{**name}</c> route value (built-in) or <c>{model}</c> (an alias's pattern).</summary>
    private static Task GeminiModel(HttpContext http)
    {
        var values = http.Request.RouteValues;
        var name = (values["model"] ?? values["name"]) as string ?? "";
        name = name.TrimStart('/');
        var id = name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name;
        var model = Registry(http).Current.Models.FirstOrDefault(m => m.Id == id);
        return model is null
            ? ErrorWriter.WriteAsync(http, ClientDialect.Gemini, 404, $"models/{id} is not found. GET /v1beta/models lists the models available.")
            : ErrorWriter.WriteJsonAsync(http, 200, GeminiModel(model));
    }

    private static ModelRegistry Registry(HttpContext http) => http.RequestServices.GetRequiredService<ModelRegistry>();

    public static JsonObject OpenAIList(IEnumerable<ListedModel> models) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
        {
            ["id"] = m.Id,
            ["object"] = "model",
            ["created"] = m.Created,
            ["owned_by"] = m.OwnedBy,
        })]),
    };

    public static JsonObject AnthropicList(IReadOnlyList<ListedModel> models) => new()
    {
        ["data"] = new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
        {
            ["id"] = m.Id,
            ["type"] = "model",
            ["display_name"] = m.DisplayName ?? m.Id,
            ["created_at"] = DateTimeOffset.FromUnixTimeSeconds(m.Created).ToString("yyyy-MM-ddTHH:mm:ssZ"),
        })]),
        ["has_more"] = false,
        ["first_id"] = models.Count > 0 ? models[0].Id : null,
        ["last_id"] = models.Count > 0 ? models[^1].Id : null,
    };

    public static JsonObject GeminiModel(ListedModel m)
    {
        var model = new JsonObject
        {
            ["name"] = "models/" + m.Id,
            ["displayName"] = m.DisplayName ?? m.Id,
            ["description"] = m.Description ?? m.Id,
            ["supportedGenerationMethods"] = new JsonArray("generateContent", "streamGenerateContent", "countTokens"),
        };
        if (m.InputTokenLimit is { } input) model["inputTokenLimit"] = input;
        if (m.OutputTokenLimit is { } output) model["outputTokenLimit"] = output;
        return model;
    }
}
