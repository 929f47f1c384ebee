using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Sdk.Streaming;

/// <summary>Every field of a <see cref="ChatResponse"/> as JSON, so two answers compare structurally with a readable diff.</summary>
internal static class ResponseJson
{
    public static JsonObject Of(ChatResponse response) => new()
    {
        ["id"] = response.Id,
        ["model"] = response.Model,
        ["created"] = response.Created,
        ["usage"] = response.Usage is { } u
            ? new JsonObject
            {
                ["input"] = u.InputTokens,
                ["output"] = u.OutputTokens,
                ["cached"] = u.CachedInputTokens,
                ["cacheCreation"] = u.CacheCreationInputTokens,
                ["reasoning"] = u.ReasoningTokens,
                ["total"] = u.TotalTokens,
            }
            : null,
        ["extensions"] = response.Extensions.DeepClone(),
        ["choices"] = new JsonArray([.. response.Choices.Select(c => (JsonNode)new JsonObject
        {
            ["index"] = c.Index,
            ["finish"] = c.FinishReason?.ToString(),
            ["nativeFinish"] = c.NativeFinishReason,
            ["grounding"] = c.GroundingMetadata?.DeepClone(),
            ["parts"] = new JsonArray([.. c.Parts.Select(Part)]),
        })]),
    };

    public static void Equal(ChatResponse expected, ChatResponse actual) => JsonAssert.Equal(Of(expected), Of(actual));

    private static JsonNode Part(ContentPart part)
    {
        var json = part switch
        {
            TextPart t => new JsonObject { ["text"] = t.Text },
            ReasoningPart r => new JsonObject
            {
                ["reasoning"] = r.Text,
                ["signature"] = r.Signature,
                ["signatureDialect"] = r.SignatureDialect?.ToString(),
                ["redacted"] = r.RedactedData,
            },
            ToolCallPart t => new JsonObject
            {
                ["call"] = t.Id,
                ["name"] = t.Name,
                // Arguments compare as JSON values: dialects differ only in spacing, never in content.
                ["arguments"] = JsonText.TryParse(t.Arguments) ?? JsonValue.Create(t.Arguments),
                ["signature"] = t.Signature,
                ["signatureDialect"] = t.SignatureDialect?.ToString(),
            },
            ImagePart i => new JsonObject { ["image"] = i.MediaType, ["data"] = i.Data, ["url"] = i.Url },
            DocumentPart d => new JsonObject { ["document"] = d.MediaType, ["data"] = d.Data, ["url"] = d.Url },
            NativePart n => new JsonObject { ["native"] = n.Dialect.ToString(), ["json"] = n.Json.DeepClone() },
            _ => new JsonObject { ["other"] = part.GetType().Name },
        };
        if (part.Extensions is { Count: > 0 } extensions) json["extensions"] = extensions.DeepClone();
        return json;
    }
}
