using System.Text.Json.Nodes;
using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Reasoning on assistant messages. Plain Chat Completions has only the text (<c>reasoning_content</c>, or
/// <c>reasoning</c> on some servers). Signatures travel in the LiteLLM convention
/// <c>thinking_blocks:[{"type":"thinking","thinking","signature"}]</c>; when blocks are present they supersede
/// <c>reasoning_content</c>, which repeats their text.
/// </summary>
internal static class ChatReasoning
{
    /// <summary>
    /// Adds the reasoning of a client's assistant <paramref name="message"/> (at <paramref name="at"/>) to
    /// <paramref name="parts"/>; wrong types throw. Blocks whose type is not "thinking" are skipped, as upstream.
    /// </summary>
    public static void DecodeInto(JsonElement message, in FieldPath at, List<ContentPart> parts)
    {
        var blocks = JsonRead.Get(message, "thinking_blocks"u8);
        if (JsonRead.OptionalArray(blocks, at, "thinking_blocks"))
        {
            var added = 0;
            var i = 0;
            foreach (var block in blocks.EnumerateArray())
            {
                var index = i++;
                if (block.ValueKind != JsonValueKind.Object || JsonRead.Get(block, "type"u8) is not { ValueKind: JsonValueKind.String } type
                    || !type.ValueEquals("thinking"u8)) continue;
                var blockAt = at.Member("thinking_blocks")[index];
                var signature = JsonRead.OptionalString(JsonRead.Get(block, "signature"u8), blockAt, "signature");
                parts.Add(new ReasoningPart
                {
                    Text = JsonRead.OptionalString(JsonRead.Get(block, "thinking"u8), blockAt, "thinking") ?? "",
                    Signature = signature,
                    SignatureDialect = signature is null ? null : Dialect.OpenAIChat,
                });
                added++;
            }
            if (added > 0) return;
        }
        var text = JsonRead.OptionalString(JsonRead.Get(message, "reasoning_content"u8), at, "reasoning_content")
            ?? JsonRead.OptionalString(JsonRead.Get(message, "reasoning"u8), at, "reasoning");
        if (!string.IsNullOrEmpty(text)) parts.Add(new ReasoningPart { Text = text });
    }

    /// <summary>Adds the reasoning of an upstream answer's <paramref name="message"/> to <paramref name="parts"/>; lenient (wrong shapes are skipped).</summary>
    public static void DecodeUpstream(JsonElement message, List<ContentPart> parts)
    {
        if (LenientJson.Get(message, "thinking_blocks"u8) is { ValueKind: JsonValueKind.Array } blocks)
        {
            var added = 0;
            foreach (var block in blocks.EnumerateArray())
            {
                if (!LenientJson.IsString(LenientJson.Get(block, "type"u8), "thinking"u8)) continue;
                var signature = LenientJson.String(LenientJson.Get(block, "signature"u8));
                parts.Add(new ReasoningPart
                {
                    Text = LenientJson.String(LenientJson.Get(block, "thinking"u8)) ?? "",
                    Signature = signature,
                    SignatureDialect = signature is null ? null : Dialect.OpenAIChat,
                });
                added++;
            }
            if (added > 0) return;
        }
        var text = LenientJson.String(LenientJson.Get(message, "reasoning_content"u8)) ?? LenientJson.String(LenientJson.Get(message, "reasoning"u8));
        if (!string.IsNullOrEmpty(text)) parts.Add(new ReasoningPart { Text = text });
    }

    /// <summary>Writes <c>reasoning_content</c> and, when a part carries a signature of this dialect, <c>thinking_blocks</c>.</summary>
    public static void Encode(IReadOnlyList<ReasoningPart> parts, JsonObject message)
    {
        var texts = new List<string>();
        foreach (var part in parts)
        {
            if (part.RedactedData is null && part.Text.Length > 0) texts.Add(part.Text);
        }
        if (texts.Count > 0) message["reasoning_content"] = string.Join("\n\n", texts);
        if (!parts.Any(HasOwnSignature)) return;
        var blocks = new JsonArray();
        foreach (var part in parts)
        {
            if (part.RedactedData is not null) continue;
            var block = new JsonObject { ["type"] = "thinking", ["thinking"] = part.Text };
            if (HasOwnSignature(part)) block["signature"] = part.Signature;
            blocks.Add(block);
        }
        message["thinking_blocks"] = blocks;
    }

    private static bool HasOwnSignature(ReasoningPart part) => part.Signature is not null && part.SignatureDialect == Dialect.OpenAIChat;
}
