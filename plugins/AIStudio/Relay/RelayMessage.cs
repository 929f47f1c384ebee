using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Plugins.AIStudio.Relay;

/// <summary>
/// One JSON text frame of the relay protocol: <c>{"id", "type", "payload"}</c>. The proxy sends <c>http_request</c>
/// (and <c>pong</c>); the relay client answers an id with <c>http_response</c>, or <c>stream_start</c> /
/// <c>stream_chunk</c>... / <c>stream_end</c>, or <c>error</c>, and may send <c>ping</c>.
/// </summary>
internal sealed record RelayMessage(string Id, string Type, JsonObject? Payload)
{
    public const string HttpRequest = "http_request";
    public const string HttpResponse = "http_response";
    public const string StreamStart = "stream_start";
    public const string StreamChunk = "stream_chunk";
    public const string StreamEnd = "stream_end";
    public const string Error = "error";
    public const string Ping = "ping";
    public const string Pong = "pong";

    /// <summary>Ends the exchange of its id.</summary>
    public bool IsTerminal => Type is HttpResponse or StreamEnd or Error;

    /// <summary>Parses a frame; null when it is not a JSON object with a string <c>type</c>.</summary>
    public static RelayMessage? Parse(ReadOnlySpan<byte> utf8)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8);
        }
        catch (JsonException)
        {
            return null;
        }
        if (node is not JsonObject json || Text(json["type"]) is not { } type) return null;
        return new RelayMessage(Text(json["id"]) ?? "", type, json["payload"] as JsonObject);
    }

    public byte[] ToUtf8()
    {
        var json = new JsonObject { ["id"] = Id, ["type"] = Type };
        if (Payload is not null) json["payload"] = Payload;
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    /// <summary>The <c>http_request</c> for one upstream call: headers as lists, body as text (the upstream speaks JSON).</summary>
    public static RelayMessage Request(string id, string method, string url, IReadOnlyDictionary<string, List<string>> headers, string body, DateTimeOffset sentAt)
    {
        var headerJson = new JsonObject();
        foreach (var (name, values) in headers) headerJson[name] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        return new RelayMessage(id, HttpRequest, new JsonObject
        {
            ["method"] = method,
            ["url"] = url,
            ["headers"] = headerJson,
            ["body"] = body,
            ["sent_at"] = sentAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    /// <summary>The <c>status</c> of a response, stream start or error; <paramref name="fallback"/> when absent.</summary>
    public int Status(int fallback) =>
        Payload?["status"] is JsonValue value && value.TryGetValue<double>(out var number) && number is >= 100 and <= 599 ? (int)number : fallback;

    /// <summary>Headers of a response or stream start; a value may be a list or a single string.</summary>
    public IEnumerable<(string Name, string Value)> Headers()
    {
        if (Payload?["headers"] is not JsonObject headers) yield break;
        foreach (var (name, value) in headers)
        {
            switch (value)
            {
                case JsonArray list:
                    foreach (var item in list)
                        if (Text(item) is { } text) yield return (name, text);
                    break;
                default:
                    if (Text(value) is { } single) yield return (name, single);
                    break;
            }
        }
    }

    /// <summary><c>body</c> of an <c>http_response</c>, <c>data</c> of a <c>stream_chunk</c>, <c>error</c> of an <c>error</c>.</summary>
    public string? Field(string name) => Text(Payload?[name]);

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
