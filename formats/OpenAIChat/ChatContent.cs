using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

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

    /// <summary>The <c>content</c> of the message at <paramref name="message"/> (absent or JSON null: no parts).</summary>
    public static List<ContentPart> Decode(JsonElement content, in FieldPath message)
    {
        var parts = new List<ContentPart>();
        DecodeInto(content, message, parts);
        return parts;
    }

    /// <summary>Adds the parts of <paramref name="content"/> to <paramref name="parts"/>.</summary>
    public static void DecodeInto(JsonElement content, in FieldPath message, List<ContentPart> parts)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return;
            case JsonValueKind.String:
                // An empty string is no part; the string is read out only when it has text.
                if (!content.ValueEquals(""u8)) parts.Add(new TextPart(content.GetString()!));
                return;
            case JsonValueKind.Array:
                var at = message.Member("content");
                var i = 0;
                foreach (var part in content.EnumerateArray()) parts.Add(DecodePart(part, at[i++]));
                return;
            default:
                throw JsonRead.Fail(message, "content", "must be a string or an array of content parts");
        }
    }

    private static ContentPart DecodePart(JsonElement part, in FieldPath at)
    {
        if (part.ValueKind != JsonValueKind.Object) throw JsonRead.Fail(at, null, "must be an object");
        var type = JsonRead.Get(part, "type"u8);
        JsonRead.RequireString(type, at, "type");
        ContentPart result;
        ReadOnlySpan<byte> own; // the key holding the part's payload, not an extension
        if (type.ValueEquals("text"u8))
        {
            result = new TextPart(JsonRead.RequiredString(JsonRead.Get(part, "text"u8), at, "text"));
            own = "text"u8;
        }
        else if (type.ValueEquals("image_url"u8))
        {
            result = DecodeImage(JsonRead.Get(part, "image_url"u8), at);
            own = "image_url"u8;
        }
        else if (type.ValueEquals("input_audio"u8))
        {
            result = DecodeAudio(JsonRead.Get(part, "input_audio"u8), at);
            own = "input_audio"u8;
        }
        else if (type.ValueEquals("file"u8))
        {
            result = DecodeFile(JsonRead.Get(part, "file"u8), at);
            own = "file"u8;
        }
        else
        {
            return new NativePart(Dialect.OpenAIChat, JsonText.ToNode(part)!);
        }
        foreach (var property in part.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null || property.NameEquals("type"u8) || property.NameEquals(own)) continue;
            result.Extensions ??= [];
            result.Extensions[Prefix + property.Name] = JsonText.ToNode(property.Value);
        }
        return result;
    }

    private static ImagePart DecodeImage(JsonElement node, in FieldPath at)
    {
        // Some clients send "image_url" as a bare string instead of {"url": ...}.
        var isObject = node.ValueKind == JsonValueKind.Object;
        var url = isObject ? JsonRead.Get(node, "url"u8) : node;
        if (url.ValueKind != JsonValueKind.String || url.ValueEquals(""u8))
        {
            JsonRead.OptionalString(url, at, isObject ? "image_url.url" : "image_url"); // a wrong type throws first
            throw JsonRead.Fail(at, "image_url.url", "is required");
        }
        var part = new ImagePart { Detail = isObject ? JsonRead.OptionalString(JsonRead.Get(node, "detail"u8), at, "image_url.detail") : null };
        if (ReadUrl(url, out var text, out var mediaType, out var data))
        {
            part.MediaType = mediaType;
            part.Data = data;
        }
        else
        {
            part.Url = text;
        }
        return part;
    }

    /// <summary>A URL string: true with the media type and payload of a base64 data URL, false with the URL itself.</summary>
    private static bool ReadUrl(JsonElement value, out string? url, out string mediaType, out string data)
    {
        url = DataUrl.TryParse(value, out mediaType, out data) ? null : value.GetString()!;
        return url is null;
    }

    private static DocumentPart DecodeAudio(JsonElement audio, in FieldPath at)
    {
        if (!JsonRead.OptionalObject(audio, at, "input_audio")) throw JsonRead.Fail(at, "input_audio", "is required");
        var format = JsonRead.RequiredString(JsonRead.Get(audio, "format"u8), at, "input_audio.format");
        return new DocumentPart
        {
            MediaType = "audio/" + format,
            Data = JsonRead.RequiredString(JsonRead.Get(audio, "data"u8), at, "input_audio.data"),
        };
    }

    private static DocumentPart DecodeFile(JsonElement file, in FieldPath at)
    {
        if (!JsonRead.OptionalObject(file, at, "file")) throw JsonRead.Fail(at, "file", "is required");
        var fileData = JsonRead.Get(file, "file_data"u8);
        // Read out only below (a wrong type throws here, absent is no data).
        var hasData = fileData.ValueKind == JsonValueKind.String || JsonRead.OptionalString(fileData, at, "file.file_data") is not null;
        var fileId = JsonRead.OptionalString(JsonRead.Get(file, "file_id"u8), at, "file.file_id");
        if (!hasData && fileId is null) throw JsonRead.Fail(at, "file", "needs 'file_data' or 'file_id'");
        var part = new DocumentPart { Title = JsonRead.OptionalString(JsonRead.Get(file, "filename"u8), at, "file.filename") };
        if (hasData)
        {
            if (ReadUrl(fileData, out var raw, out var mediaType, out var data))
            {
                part.MediaType = mediaType;
                part.Data = data;
            }
            else
            {
                part.Data = raw;
                part.MediaType = MediaTypeFromFileName(part.Title);
            }
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
