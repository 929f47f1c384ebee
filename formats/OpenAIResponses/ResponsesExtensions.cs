using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.OpenAIResponses;

/// <summary>Keys this codec uses in canonical <c>Extensions</c> bags, and small accessors for part extensions.</summary>
internal static class ResponsesExtensions
{
    public const string Prefix = "responses.";

    /// <summary>The wire item id (<c>msg_…</c>, <c>fc_…</c>, <c>rs_…</c>) of the item a part came from; on the item's first part.</summary>
    public const string Id = Prefix + "id";

    /// <summary>system or developer: the input message role of a system part that did not come from <c>instructions</c>.</summary>
    public const string Role = Prefix + "role";

    /// <summary>Marks a <see cref="NativePart"/> that is a message content part rather than a whole input/output item.</summary>
    public const string InMessage = Prefix + "in_message";

    /// <summary>An uploaded file's id (<c>file_id</c>) on an image or file part.</summary>
    public const string FileId = Prefix + "file_id";

    /// <summary>A reasoning item's original <c>summary</c> array when it had several entries (the part text joins them).</summary>
    public const string Summary = Prefix + "summary";

    /// <summary>A reasoning item's raw <c>content</c> array (reasoning_text entries), kept verbatim.</summary>
    public const string ReasoningContent = Prefix + "content";

    /// <summary>Fields of an input item this codec does not map (Codex's <c>namespace</c>, <c>status</c>, ...), re-emitted on encode.</summary>
    public const string Extra = Prefix + "extra";

    public static void Set(ContentPart part, string key, JsonNode? value) => (part.Extensions ??= [])[key] = value;

    public static JsonNode? Get(ContentPart part, string key) => part.Extensions?[key];

    public static string? GetString(ContentPart part, string key) => Lenient.String(Get(part, key));

    /// <summary>Keeps the fields of <paramref name="item"/> outside <paramref name="mapped"/> on <paramref name="part"/> (copied out of the body's document).</summary>
    public static void KeepExtra(JsonElement item, ContentPart part, params string[] mapped)
    {
        JsonObject? extra = null;
        foreach (var property in item.EnumerateObject())
        {
            if (!NameIn(property, mapped)) (extra ??= [])[property.Name] = JsonText.ToNode(property.Value);
        }
        if (extra is not null) Set(part, Extra, extra);
    }

    /// <summary>Whether the property is one of <paramref name="names"/>, compared without materializing its name.</summary>
    public static bool NameIn(JsonProperty property, string[] names)
    {
        foreach (var name in names)
        {
            if (property.NameEquals(name)) return true;
        }
        return false;
    }

    /// <summary>Writes the kept fields back onto an encoded item, without overriding mapped ones.</summary>
    public static void WriteExtra(ContentPart part, JsonObject item)
    {
        if (Get(part, Extra) is not JsonObject extra) return;
        foreach (var (key, value) in extra)
        {
            if (!item.ContainsKey(key)) item[key] = value?.DeepClone();
        }
    }

    public static bool IsMessageContent(NativePart part) => Get(part, InMessage) is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
