using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Gemini.Body;

/// <summary>
/// What a translated request needs before it goes to any Gemini upstream (API key, Code Assist, Vertex), on top of
/// what the Gemini codec encodes: schemas Gemini accepts, thinking within the model's range, and default safety
/// settings. Passthrough bodies from Gemini clients are not touched.
/// </summary>
internal static class RequestShaper
{
    /// <summary>CLIProxyAPI's defaults: every category off, civic integrity at BLOCK_NONE (its newest threshold).</summary>
    public static JsonArray DefaultSafetySettings() =>
    [
        Safety("HARM_CATEGORY_HARASSMENT", "OFF"),
        Safety("HARM_CATEGORY_HATE_SPEECH", "OFF"),
        Safety("HARM_CATEGORY_SEXUALLY_EXPLICIT", "OFF"),
        Safety("HARM_CATEGORY_DANGEROUS_CONTENT", "OFF"),
        Safety("HARM_CATEGORY_CIVIC_INTEGRITY", "BLOCK_NONE"),
    ];

    public static JsonObject Shape(JsonObject body, ThinkingSupport? thinking, PluginSettings settings)
    {
        CleanSchemas(body);
        ThinkingClamp.Apply(body, thinking);
        if (body["safetySettings"] is null && GeminiSettings.GetBool(settings, "default-safety-settings", true))
            body["safetySettings"] = DefaultSafetySettings();
        return body;
    }

    private static void CleanSchemas(JsonObject body)
    {
        if (body["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.OfType<JsonObject>())
            {
                if (tool["functionDeclarations"] is not JsonArray declarations) continue;
                foreach (var declaration in declarations.OfType<JsonObject>())
                {
                    CleanField(declaration, "parametersJsonSchema", SchemaMode.JsonSchema);
                    CleanField(declaration, "responseJsonSchema", SchemaMode.JsonSchema);
                    CleanField(declaration, "parameters", SchemaMode.OpenApi);
                    CleanField(declaration, "response", SchemaMode.OpenApi);
                }
            }
        }
        if (body["generationConfig"] is JsonObject generation)
        {
            CleanField(generation, "responseJsonSchema", SchemaMode.JsonSchema);
            CleanField(generation, "responseSchema", SchemaMode.OpenApi);
        }
    }

    private static void CleanField(JsonObject owner, string field, SchemaMode mode)
    {
        if (owner[field] is JsonObject schema) owner[field] = SchemaCleaner.Clean(schema, mode);
    }

    private static JsonObject Safety(string category, string threshold) => new() { ["category"] = category, ["threshold"] = threshold };
}
