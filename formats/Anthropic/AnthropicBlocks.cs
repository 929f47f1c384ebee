using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using static PluginProxy.Formats.Anthropic.AnthropicJson;
using static PluginProxy.Formats.Anthropic.AnthropicMappings;

namespace PluginProxy.Formats.Anthropic;

/// <summary>Where an encoded block goes: requests drop what Anthropic would reject, responses show everything the client may see.</summary>
internal enum BlockTarget
{
    Request,
    Response,
}

/// <summary>
/// Content blocks (shared by request messages, tool results and response content) to canonical parts and back.
/// Keys of a block with no canonical field (<c>cache_control</c>, <c>citations</c>, ...) travel as <c>anthropic.&lt;key&gt;</c>
/// part extensions; block types with no canonical part become <see cref="NativePart"/>s kept verbatim.
/// </summary>
internal static class AnthropicBlocks
{
    /// <summary>The blocks of a content array, each decoded; errors name <paramref name="key"/>[i].</summary>
    public static List<ContentPart> DecodeList(JsonElement blocks, IDictionary<string, string> toolNames, string key)
    {
        var parts = new List<ContentPart>(blocks.GetArrayLength());
        var i = 0;
        foreach (var item in blocks.EnumerateArray())
        {
            try
            {
                parts.Add(Decode(Object(item), toolNames));
            }
            catch (FieldError e)
            {
                throw e.Under(i).Under(key);
            }
            i++;
        }
        return parts;
    }

    /// <param name="toolNames">Tool names by tool_use id seen so far, to name tool results.</param>
    public static ContentPart Decode(JsonElement block, IDictionary<string, string> toolNames)
    {
        var type = RequiredString(block, "type");
        switch (type)
        {
            case "text":
                return WithExtras(new TextPart(RequiredString(block, "text")), block, "type", "text");
            case "image":
                return DecodeImage(block);
            case "document":
                return DecodeDocument(block);
            case "tool_use":
            {
                var id = RequiredString(block, "id");
                var name = RequiredString(block, "name");
                toolNames[id] = name;
                var arguments = "{}";
                if (TryGet(block, "input", out var input))
                {
                    if (input.ValueKind != JsonValueKind.Object) throw new FieldError("input", "must be an object");
                    arguments = JsonText.Serialize(input);
                }
                var call = new ToolCallPart { Id = id, Name = name, Arguments = arguments };
                return WithExtras(call, block, "type", "id", "name", "input");
            }
            case "tool_result":
            {
                var id = RequiredString(block, "tool_use_id");
                var result = new ToolResultPart
                {
                    ToolCallId = id,
                    Name = toolNames.TryGetValue(id, out var name) ? name : null,
                    IsError = OptionalBool(block, "is_error") ?? false,
                    Content = DecodeResultContent(block, toolNames),
                };
                return WithExtras(result, block, "type", "tool_use_id", "content", "is_error");
            }
            case "thinking":
            {
                var signature = OptionalString(block, "signature");
                var reasoning = new ReasoningPart { Text = OptionalString(block, "thinking") ?? "" };
                if (!string.IsNullOrEmpty(signature))
                {
                    reasoning.Signature = signature;
                    reasoning.SignatureDialect = Dialect.Anthropic;
                }
                return WithExtras(reasoning, block, "type", "thinking", "signature");
            }
            case "redacted_thinking":
                return WithExtras(new ReasoningPart { RedactedData = RequiredString(block, "data") }, block, "type", "data");
            case "tool_addition":
            case "tool_removal":
                return DecodeToolChange(block, type == "tool_removal");
            default:
                // server_tool_use, web_search_tool_result, mcp_tool_use, search_result, container_upload, ...
                return new NativePart(Dialect.Anthropic, JsonText.ToNode(block)!);
        }
    }

    /// <summary>
    /// <c>tool</c> is a <c>tool_reference</c> (name), <c>mcp_tool_reference</c> (name, server_name),
    /// <c>mcp_toolset_reference</c> (server_name) or <c>tool_definition</c> (definition by value). The whole <c>tool</c>
    /// object also rides as the <c>anthropic.tool</c> extension, so this codec re-emits it exactly as it came.
    /// </summary>
    private static ContentPart DecodeToolChange(JsonElement block, bool removed)
    {
        var change = new ToolChangePart { Removed = removed };
        if (OptionalObject(block, "tool") is { } tool)
        {
            try
            {
                if (OptionalString(tool, "type") == "tool_definition")
                {
                    var definition = OptionalObject(tool, "definition") ?? EmptyObject;
                    try
                    {
                        change.Definition = AnthropicRequestDecoder.DecodeTool(definition);
                    }
                    catch (FieldError e)
                    {
                        throw e.Under("definition");
                    }
                }
                else
                {
                    change.Name = Text(tool, "name");
                    change.ServerName = Text(tool, "server_name");
                }
            }
            catch (FieldError e)
            {
                throw e.Under("tool");
            }
        }
        return WithExtras(change, block, "type");
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static ContentPart DecodeImage(JsonElement block)
    {
        var source = OptionalObject(block, "source") ?? throw new FieldError("source", "is required");
        ImagePart image;
        try
        {
            switch (OptionalString(source, "type"))
            {
                case "base64":
                    image = new ImagePart
                    {
                        MediaType = OptionalString(source, "media_type"),
                        Data = RequiredString(source, "data"),
                    };
                    break;
                case "url":
                    image = new ImagePart { Url = RequiredString(source, "url") };
                    break;
                default:
                    // Files API references and future source kinds have no canonical form.
                    return new NativePart(Dialect.Anthropic, JsonText.ToNode(block)!);
            }
        }
        catch (FieldError e)
        {
            throw e.Under("source");
        }
        return WithExtras(image, block, "type", "source");
    }

    private static ContentPart DecodeDocument(JsonElement block)
    {
        var source = OptionalObject(block, "source") ?? throw new FieldError("source", "is required");
        var document = new DocumentPart { Title = OptionalString(block, "title") };
        try
        {
            switch (OptionalString(source, "type"))
            {
                case "base64":
                    document.MediaType = OptionalString(source, "media_type");
                    document.Data = RequiredString(source, "data");
                    break;
                case "text":
                    document.MediaType = OptionalString(source, "media_type");
                    document.Text = RequiredString(source, "data");
                    break;
                case "url":
                    document.Url = RequiredString(source, "url");
                    break;
                default:
                    // "content" (custom block lists) and "file" sources stay native.
                    return new NativePart(Dialect.Anthropic, JsonText.ToNode(block)!);
            }
        }
        catch (FieldError e)
        {
            throw e.Under("source");
        }
        return WithExtras(document, block, "type", "source", "title");
    }

    private static List<ContentPart> DecodeResultContent(JsonElement block, IDictionary<string, string> toolNames)
    {
        if (!TryGet(block, "content", out var content)) return [];
        return content.ValueKind switch
        {
            JsonValueKind.Array => DecodeList(content, toolNames, "content"),
            JsonValueKind.String => [new TextPart(content.GetString()!)],
            _ => throw new FieldError("content", "must be a string or an array of content blocks"),
        };
    }

    private static T WithExtras<T>(T part, JsonElement block, params string[] known) where T : ContentPart
    {
        part.Extensions = CollectExtras(block, part.Extensions, known);
        return part;
    }

    // ---- encode ----

    /// <summary>The block for a part, or null when the part has no valid Anthropic form for <paramref name="target"/>.</summary>
    public static JsonObject? Encode(ContentPart part, BlockTarget target)
    {
        var block = part switch
        {
            TextPart text => EncodeText(text, target),
            ImagePart image => EncodeImage(image),
            DocumentPart document => EncodeDocument(document),
            ReasoningPart reasoning => EncodeReasoning(reasoning, target),
            ToolCallPart call => new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = call.Id.Length > 0 ? call.Id : NewId("toolu_"),
                ["name"] = call.Name,
                ["input"] = ArgumentsObject(call.Arguments),
            },
            ToolResultPart result => EncodeToolResult(result, target),
            ToolChangePart change => EncodeToolChange(change),
            NativePart { Dialect: Dialect.Anthropic } native => native.Json.DeepClone() as JsonObject,
            _ => null,
        };
        if (block is not null && part is not NativePart) EmitExtras(part.Extensions, block);
        return block;
    }

    /// <summary>
    /// Content in its shortest faithful form: a lone plain text part becomes a string, anything else an array of blocks.
    /// Null when nothing is left.
    /// </summary>
    public static JsonNode? EncodeContent(IEnumerable<ContentPart> parts, BlockTarget target)
    {
        var blocks = new JsonArray();
        foreach (var part in parts)
        {
            if (Encode(part, target) is { } block) blocks.Add(block);
        }
        if (blocks.Count == 0) return null;
        return blocks.Count == 1 && PlainText(blocks[0]) is { } text ? text : blocks;
    }

    /// <summary>The text of a text block that has nothing but its text (so it can be sent as a plain string).</summary>
    public static string? PlainText(JsonNode? block) =>
        block is JsonObject { Count: 2 } only && Text(only, "type") == "text" ? Text(only, "text") : null;

    /// <summary>Tool arguments as the object Anthropic requires; text that is not a JSON object becomes <c>{}</c>.</summary>
    public static JsonObject ArgumentsObject(string arguments) =>
        JsonText.TryParse(arguments) as JsonObject ?? [];

    private static JsonObject? EncodeText(TextPart text, BlockTarget target)
    {
        // Anthropic rejects empty and whitespace-only text blocks in requests.
        var empty = target == BlockTarget.Request ? string.IsNullOrWhiteSpace(text.Text) : text.Text.Length == 0;
        return empty ? null : new JsonObject { ["type"] = "text", ["text"] = text.Text };
    }

    private static JsonObject? EncodeImage(ImagePart image)
    {
        JsonObject source;
        if (image.Data is not null)
            source = Base64Source(image.MediaType ?? "image/png", image.Data);
        else if (image.Url is null)
            return null;
        else if (DataUrl.TryParse(image.Url, out var mediaType, out var data))
            source = Base64Source(image.MediaType ?? mediaType, data);
        else
            source = new JsonObject { ["type"] = "url", ["url"] = image.Url };
        return new JsonObject { ["type"] = "image", ["source"] = source };
    }

    private static JsonObject? EncodeDocument(DocumentPart document)
    {
        JsonObject source;
        if (document.Text is not null)
            source = new JsonObject { ["type"] = "text", ["media_type"] = document.MediaType ?? "text/plain", ["data"] = document.Text };
        else if (document.Data is not null)
            source = Base64Source(document.MediaType ?? "application/pdf", document.Data);
        else if (document.Url is null)
            return null;
        else if (DataUrl.TryParse(document.Url, out var mediaType, out var data))
            source = Base64Source(document.MediaType ?? mediaType, data);
        else
            source = new JsonObject { ["type"] = "url", ["url"] = document.Url };
        var block = new JsonObject { ["type"] = "document", ["source"] = source };
        if (document.Title is not null) block["title"] = document.Title;
        return block;
    }

    private static JsonObject? EncodeReasoning(ReasoningPart reasoning, BlockTarget target)
    {
        if (reasoning.RedactedData is not null)
            return new JsonObject { ["type"] = "redacted_thinking", ["data"] = reasoning.RedactedData };
        var signature = reasoning.SignatureDialect == Dialect.Anthropic ? reasoning.Signature : null;
        // Anthropic rejects thinking blocks without its own signature, so requests drop them; clients still see them.
        if (string.IsNullOrEmpty(signature) && target == BlockTarget.Request) return null;
        if (target == BlockTarget.Response && reasoning.Text.Length == 0 && string.IsNullOrEmpty(signature)) return null;
        return new JsonObject { ["type"] = "thinking", ["thinking"] = reasoning.Text, ["signature"] = signature ?? "" };
    }

    private static JsonObject EncodeToolResult(ToolResultPart result, BlockTarget target)
    {
        var block = new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = result.ToolCallId };
        if (EncodeContent(result.Content, target) is { } content) block["content"] = content;
        if (result.IsError) block["is_error"] = true;
        return block;
    }

    /// <summary>The change with its <c>tool</c>: the one decoded (extension <c>anthropic.tool</c>), else built from the fields.</summary>
    private static JsonObject? EncodeToolChange(ToolChangePart change)
    {
        var block = new JsonObject { ["type"] = change.Removed ? "tool_removal" : "tool_addition" };
        if (change.Extensions?[ExtensionPrefix + "tool"] is JsonObject) return block;
        JsonObject tool;
        if (change.Definition is { } definition && AnthropicRequestEncoder.EncodeTool(definition) is { } encoded)
            tool = new JsonObject { ["type"] = "tool_definition", ["definition"] = encoded };
        else if (change.Name is { } name)
            tool = change.ServerName is { } server
                ? new JsonObject { ["type"] = "mcp_tool_reference", ["name"] = name, ["server_name"] = server }
                : new JsonObject { ["type"] = "tool_reference", ["name"] = name };
        else if (change.ServerName is { } toolset)
            tool = new JsonObject { ["type"] = "mcp_toolset_reference", ["server_name"] = toolset };
        else
            return null;
        block["tool"] = tool;
        return block;
    }

    private static JsonObject Base64Source(string mediaType, string data) =>
        new() { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data };
}
