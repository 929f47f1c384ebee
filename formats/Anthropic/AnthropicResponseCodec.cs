using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Abstractions.Upstream;
using static PluginProxy.Formats.Anthropic.AnthropicJson;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>
/// Non-streaming Message objects both ways. Only choice 0 exists in Anthropic. Unknown top-level keys of an upstream
/// message travel as <c>anthropic.&lt;key&gt;</c> response extensions, unknown usage keys as <c>anthropic.usage</c>, a matched
/// stop sequence as <c>anthropic.stop_sequence</c>; grounding is the top-level <c>grounding_metadata</c>.
/// </summary>
internal static class AnthropicResponseCodec
{
    private static readonly string[] MessageKeys =
        ["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage", "grounding_metadata"];

    private static readonly string[] UsageKeys =
        ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"];

    public static JsonObject Encode(ChatResponse response, ChatRequest request)
    {
        var choice = response.Choices.FirstOrDefault(c => c.Index == 0) ?? response.Choices.FirstOrDefault();
        var content = new JsonArray();
        foreach (var part in choice?.Parts ?? [])
        {
            if (AnthropicBlocks.Encode(part, BlockTarget.Response) is { } block) content.Add(block);
        }
        var sawToolCall = choice?.Parts.Any(p => p is ToolCallPart) == true;
        var usage = EncodeUsage(response.Usage);
        if (response.Extensions[ExtensionPrefix + "usage"] is JsonObject usageExtras)
        {
            foreach (var (key, value) in usageExtras) usage.TryAdd(key, value?.DeepClone());
        }

        var message = new JsonObject
        {
            ["id"] = response.Id.Length > 0 ? response.Id : NewId("msg_"),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = response.Model.Length > 0 ? response.Model : request.Model,
            ["content"] = content,
            ["stop_reason"] = StopReasonFor(choice?.FinishReason, choice?.NativeFinishReason, sawToolCall),
            ["stop_sequence"] = response.Extensions[ExtensionPrefix + "stop_sequence"]?.DeepClone(),
            ["usage"] = usage,
        };
        if (choice?.GroundingMetadata is { } grounding) message["grounding_metadata"] = grounding.DeepClone();
        EmitExtras(response.Extensions, message);
        return message;
    }

    /// <summary>
    /// An upstream Message read in place: nothing kept points into <paramref name="message"/>'s document (strings are
    /// materialized, JSON kept whole is copied out), since the caller disposes it after this call.
    /// </summary>
    public static ChatResponse Decode(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object) throw Malformed("the body is not a JSON object");
        if (Text(message, "type") == "error")
        {
            // Rare: through a DOM as before, so the exception (and its raw body's text) is exactly what it was.
            var error = (JsonObject)JsonText.ToNode(message)!;
            throw UpstreamError(error, error.ToJsonString());
        }

        var choice = new Choice
        {
            Index = 0,
            NativeFinishReason = Text(message, "stop_reason"),
            GroundingMetadata = JsonText.ToNode(LenientJson.Get(message, "grounding_metadata"u8)),
        };
        choice.FinishReason = FinishReasonFor(choice.NativeFinishReason);
        var toolNames = new Dictionary<string, string>();
        try
        {
            if (message.TryGetProperty("content"u8, out var blocks) && blocks.ValueKind == JsonValueKind.Array)
                choice.Parts.AddRange(AnthropicBlocks.DecodeList(blocks, toolNames, "content"));
        }
        catch (FieldError e)
        {
            throw Malformed(e.Message);
        }

        var response = new ChatResponse
        {
            Id = Text(message, "id") ?? "",
            Model = Text(message, "model") ?? "",
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Choices = [choice],
        };
        if (TryObject(message, "usage", out var usage))
        {
            response.Usage = DecodeUsage(Count(usage, "input_tokens"), Count(usage, "cache_read_input_tokens"),
                Count(usage, "cache_creation_input_tokens"), Count(usage, "output_tokens"));
            JsonObject? usageExtras = null;
            foreach (var property in usage.EnumerateObject())
            {
                if (!NameIn(property, UsageKeys)) (usageExtras ??= [])[property.Name] = JsonText.ToNode(property.Value);
            }
            if (usageExtras is not null) response.Extensions[ExtensionPrefix + "usage"] = usageExtras;
        }
        if (Text(message, "stop_sequence") is { } stopSequence) response.Extensions[ExtensionPrefix + "stop_sequence"] = stopSequence;
        CollectExtras(message, response.Extensions, MessageKeys);
        return response;
    }

    /// <summary>An Anthropic error object (<c>{"type":"error","error":{type,message}}</c>) as an upstream failure.</summary>
    public static UpstreamException UpstreamError(JsonObject errorBody, string rawBody)
    {
        var error = errorBody["error"] as JsonObject;
        var status = StatusForErrorType(Text(error, "type"));
        var message = Text(error, "message") ?? "upstream reported an error";
        return new UpstreamException(UpstreamException.KindFor(status), status, message, rawBody);
    }

    private static UpstreamException Malformed(string detail) =>
        new(FailureKind.Transient, 502, "malformed Anthropic response: " + detail);
}
