using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Message <c>content</c> (string or array of typed parts) to canonical parts and back. Keys of a part that have no
/// canonical home (for example <c>cache_control</c> on a text part) ride in the part's Extensions as
/// <c>openai.&lt;key&gt;</c> and are written back; unknown part types travel as <see cref="NativePart"/>.
/// </summary>
internal static class ChatContent
{
    public const string Prefix = "openai.";

    /// <summary>Part Extensions keys that carry structure (message boundaries, ids), not part fields.</summary>
    public const string RoleKey = "openai.role";
    public const string SystemMessageKey = "openai.system_message";
    public const string NameKey = "openai.name";
    public const string FileIdKey = "openai.file_id";

    private static readonly HashSet<string> StructuralKeys = [RoleKey, SystemMessageKey, NameKey, FileIdKey];

    public static List<ContentPart> Decode(JsonNode? content, string field)
    {
        switch (content)
        {
            case null:
                return [];
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                return text.Length == 0 ? [] : [new TextPart(text)];
            case JsonArray array:
                var parts = new List<ContentPart>(array.Count);
                for (var i = 0; i < array.Count; i++) parts.Add(DecodePart(array[i], $"{field}[{i}]"));
                return parts;
            default:
                throw new RequestFormatException($"'{field}' must be a string or an array of content parts");
        }
    }

    private static ContentPart DecodePart(JsonNode? node, string field)
    {
        if (node is not JsonObject part) throw new RequestFormatException($"'{field}' must be an object");
        var type = JsonRead.RequiredString(part["type"], field + ".type");
        ContentPart result = type switch
        {
            "text" => new TextPart(JsonRead.RequiredString(part["text"], field + ".text")),
            "image_url" => DecodeImage(part["image_url"], field + ".image_url"),
            "input_audio" => DecodeAudio(part["input_audio"], field + ".input_audio"),
            "file" => DecodeFile(part["file"], field + ".file"),
            _ => new NativePart(Dialect.OpenAIChat, part.DeepClone()),
        };
        if (result is NativePart) return result;
        foreach (var (key, value) in part)
        {
            if (key == "type" || key == type || value is null) continue;
            result.Extensions ??= [];
            result.Extensions[Prefix + key] = value.DeepClone();
        }
        return result;
    }

    private static ImagePart DecodeImage(JsonNode? node, string field)
    {
        // Some clients send "image_url" as a bare string instead of {"url": ...}.
        var image = node as JsonObject;
        var url = image is null ? JsonRead.OptionalString(node, field) : JsonRead.OptionalString(image["url"], field + ".url");
        if (string.IsNullOrEmpty(url)) throw new RequestFormatException($"'{field}.url' is required");
        var part = new ImagePart { Detail = image is null ? null : JsonRead.OptionalString(image["detail"], field + ".detail") };
        if (DataUrl.TryParse(url, out var mediaType, out var data))
        {
            part.MediaType = mediaType;
            part.Data = data;
        }
        else
        {
            part.Url = url;
        }
        return part;
    }

    private static DocumentPart DecodeAudio(JsonNode? node, string field)
    {
        var audio = JsonRead.OptionalObject(node, field) ?? throw new RequestFormatException($"'{field}' is required");
        var format = JsonRead.RequiredString(audio["format"], field + ".format");
        return new DocumentPart
        {
            MediaType = "audio/" + format,
            Data = JsonRead.RequiredString(audio["data"], field + ".data"),
        };
    }

    private static DocumentPart DecodeFile(JsonNode? node, string field)
    {
        var file = JsonRead.OptionalObject(node, field) ?? throw new RequestFormatException($"'{field}' is required");
        var fileData = JsonRead.OptionalString(file["file_data"], field + ".file_data");
        var fileId = JsonRead.OptionalString(file["file_id"], field + ".file_id");
        if (fileData is null && fileId is null) throw new RequestFormatException($"'{field}' needs 'file_data' or 'file_id'");
        var part = new DocumentPart { Title = JsonRead.OptionalString(file["filename"], field + ".filename") };
        if (fileData is not null && DataUrl.TryParse(fileData, out var mediaType, out var data))
        {
            part.MediaType = mediaType;
            part.Data = data;
        }
        else if (fileData is not null)
        {
            part.Data = fileData;
            part.MediaType = MediaTypeFromFileName(part.Title);
        }
        if (fileId is not null) part.Extensions = new JsonObject { [FileIdKey] = fileId };
        return part;
    }

    private static string? MediaTypeFromFileName(string? fileName) => Path.GetExtension(fileName ?? "").ToLowerInvariant() switch
    {
        ".pdf" => "application/pdf",
        ".txt" => "text/plain",
        ".md" => "text/markdown",
        ".csv" => "text/csv",
        ".json" => "application/json",
        ".html" or ".htm" => "text/html",
        _ => null,
    };

    /// <summary>Content for a message: a string for one plain text part, an array otherwise, null when no part is expressible.</summary>
    public static JsonNode? Encode(IEnumerable<ContentPart> parts)
    {
        var encoded = new List<JsonObject>();
        foreach (var part in parts)
        {
            if (EncodePart(part) is { } json) encoded.Add(json);
        }
        if (encoded.Count == 0) return null;
        if (encoded.Count == 1 && encoded[0].Count == 2 && encoded[0]["text"] is { } onlyText) return onlyText.DeepClone();
        return new JsonArray([.. encoded]);
    }

    private static JsonObject? EncodePart(ContentPart part)
    {
        var json = part switch
        {
            TextPart text => TextJson(text.Text),
            ImagePart image => EncodeImage(image),
            DocumentPart document => EncodeDocument(document),
            // An OpenAIChat native part with a "type" is a content part; without one it holds message fields.
            NativePart { Dialect: Dialect.OpenAIChat, Json: JsonObject native } when native.ContainsKey("type") => (JsonObject)native.DeepClone(),
            _ => null,
        };
        if (json is null || part is NativePart || part.Extensions is null) return json;
        foreach (var (key, value) in part.Extensions)
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal) || StructuralKeys.Contains(key)) continue;
            var name = key[Prefix.Length..];
            if (!json.ContainsKey(name)) json[name] = value?.DeepClone();
        }
        return json;
    }

    private static JsonObject TextJson(string text) => new() { ["type"] = "text", ["text"] = text };

    private static JsonObject? EncodeImage(ImagePart image)
    {
        var url = image.Data is not null ? DataUrl.Build(image.MediaType, image.Data) : image.Url;
        if (url is null) return null;
        var imageUrl = new JsonObject { ["url"] = url };
        if (image.Detail is not null) imageUrl["detail"] = image.Detail;
        return new JsonObject { ["type"] = "image_url", ["image_url"] = imageUrl };
    }

    private static JsonObject? EncodeDocument(DocumentPart document)
    {
        var fileId = JsonRead.AsString(document.Extensions?[FileIdKey]);
        if (document.Data is not null && document.MediaType?.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) == true)
        {
            var format = document.MediaType[6..].ToLowerInvariant() switch
            {
                "mpeg" => "mp3",
                "x-wav" or "wave" => "wav",
                var other => other,
            };
            return new JsonObject
            {
                ["type"] = "input_audio",
                ["input_audio"] = new JsonObject { ["data"] = document.Data, ["format"] = format },
            };
        }
        if (document.Data is not null || fileId is not null)
        {
            var file = new JsonObject();
            if (document.Title is not null) file["filename"] = document.Title;
            // Without a media type the payload goes out as the raw base64 the client sent.
            if (document.Data is not null) file["file_data"] = document.MediaType is null ? document.Data : DataUrl.Build(document.MediaType, document.Data);
            if (fileId is not null) file["file_id"] = fileId;
            return new JsonObject { ["type"] = "file", ["file"] = file };
        }
        // Chat Completions cannot reference a document by URL or carry a plain-text document: give the model the text.
        if (document.Text is not null) return TextJson(document.Text);
        return document.Url is not null ? TextJson(document.Url) : null;
    }
}
