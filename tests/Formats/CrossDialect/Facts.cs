using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>
/// Dialect-neutral lines describing a conversation or an answer, read from wire JSON by the test's own readers (never by
/// the codecs under test). Tool call ids become <c>#1</c>, <c>#2</c>, ... in order of first appearance, so a result
/// pairs with its call whatever the id looks like; the ids as they were on the wire are kept in <see cref="RawIds"/>.
/// </summary>
internal sealed class Facts
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public List<string> Lines { get; } = [];

    public List<string> RawIds { get; } = [];

    /// <summary>System and declarations first, then the conversation, keeping the conversation's id numbering.</summary>
    public static Facts Join(Facts head, Facts conversation)
    {
        conversation.Lines.InsertRange(0, head.Lines);
        return conversation;
    }

    public void Add(string? role, string fact) => Lines.Add(role is null ? fact : $"{role}: {fact}");

    public void Text(string? role, string text) => Add(role, "text " + text);

    public void Image(string? role, string? mediaType, string data) => Add(role, $"image {mediaType} {data}");

    public void Thinking(string? role, string text, string? signature) => Add(role, "thinking " + text + Signed(signature));

    public void Call(string? role, string id, string name, string arguments, string? signature = null) =>
        Add(role, $"call {Id(id)} {name} {Json(arguments)}{Signed(signature)}");

    public void Result(string id, string content) => Add("tool", $"result {Id(id)} {content}");

    /// <summary>Compact JSON text, so arguments compare as JSON rather than as text (spaces, escapes).</summary>
    public static string Json(string text)
    {
        try
        {
            return JsonNode.Parse(text)?.ToJsonString() ?? "null";
        }
        catch (JsonException)
        {
            return "INVALID JSON " + text;
        }
    }

    public static string Json(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static string Signed(string? signature) => string.IsNullOrEmpty(signature) ? "" : " sig=" + signature;

    private string Id(string raw)
    {
        if (!_ids.TryGetValue(raw, out var number))
        {
            number = _ids.Count + 1;
            _ids[raw] = number;
            RawIds.Add(raw);
        }
        return "#" + number;
    }
}

/// <summary>Token counts as a client sees them; null where the client's dialect has no field for the number.</summary>
internal sealed record UsageFacts(long Input, long Cached, long Output, long? Reasoning, long? Total);

/// <summary>What a client can read from an answer: content lines, the finish reason (stop/length/tool_calls), usage and grounding.</summary>
internal sealed record AnswerFacts(Facts Content, string? Finish, UsageFacts? Usage, JsonNode? Grounding);

/// <summary>
/// Assembles answer content from pieces in the order they arrive (whole blocks or stream deltas): consecutive text or
/// thinking pieces join into one item, a signature closes the thinking before it, calls are keyed as the dialect keys them.
/// </summary>
internal sealed class AnswerBuilder
{
    private readonly List<Item> _items = [];
    private readonly Dictionary<string, Item> _calls = new(StringComparer.Ordinal);

    private enum Kind
    {
        Text,
        Thinking,
        Call,
    }

    private sealed class Item(Kind kind)
    {
        public Kind Kind { get; } = kind;
        public StringBuilder Content { get; } = new();
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Signature { get; set; }
    }

    public void Text(string text)
    {
        if (text.Length == 0) return;
        Last(Kind.Text).Content.Append(text);
    }

    public void Thinking(string text)
    {
        if (text.Length == 0) return;
        var last = _items.Count > 0 ? _items[^1] : null;
        // Text after a signature belongs to a new thinking block.
        var item = last is { Kind: Kind.Thinking, Signature: null } ? last : Add(Kind.Thinking);
        item.Content.Append(text);
    }

    /// <summary>A reasoning signature; it belongs to the thinking item it ends (a new empty one if none is open).</summary>
    public void ThinkingSignature(string? signature)
    {
        if (string.IsNullOrEmpty(signature)) return;
        var last = _items.Count > 0 ? _items[^1] : null;
        var item = last is { Kind: Kind.Thinking, Signature: null } ? last : Add(Kind.Thinking);
        item.Signature = signature;
    }

    public void StartCall(string key, string id, string name, string? signature = null)
    {
        var item = Add(Kind.Call);
        item.Id = id;
        item.Name = name;
        item.Signature = string.IsNullOrEmpty(signature) ? null : signature;
        _calls[key] = item;
    }

    public void CallArguments(string key, string fragment)
    {
        Assert.True(_calls.TryGetValue(key, out var call), $"arguments for unknown call {key}");
        call!.Content.Append(fragment);
    }

    public Facts Build()
    {
        var facts = new Facts();
        foreach (var item in _items)
        {
            switch (item.Kind)
            {
                case Kind.Text:
                    facts.Text(null, item.Content.ToString());
                    break;
                case Kind.Thinking:
                    facts.Thinking(null, item.Content.ToString(), item.Signature);
                    break;
                default:
                    facts.Call(null, item.Id, item.Name, item.Content.Length == 0 ? "{}" : item.Content.ToString(), item.Signature);
                    break;
            }
        }
        return facts;
    }

    private Item Last(Kind kind) => _items.Count > 0 && _items[^1].Kind == kind ? _items[^1] : Add(kind);

    private Item Add(Kind kind)
    {
        var item = new Item(kind);
        _items.Add(item);
        return item;
    }
}

/// <summary>Small readers for wire JSON in the test readers.</summary>
internal static class Wire
{
    public static string? Str(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static long? Num(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<long>() : null;

    public static IEnumerable<JsonObject> Objects(JsonNode? node) => node is JsonArray array ? array.OfType<JsonObject>() : [];

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>Splits a <c>data:</c> URL; fails the test for anything else.</summary>
    public static (string MediaType, string Data) DataUrl(string url)
    {
        Assert.StartsWith("data:", url);
        var marker = url.IndexOf(";base64,", StringComparison.Ordinal);
        Assert.True(marker > 0, "not a base64 data URL: " + url);
        return (url[5..marker], url[(marker + 8)..]);
    }
}
