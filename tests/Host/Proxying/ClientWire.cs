using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>One SSE event as a client sees it: the event name (if any) and the data as JSON (null for <c>[DONE]</c>).</summary>
internal sealed record ClientEvent(string? Name, string RawData, JsonObject? Data)
{
    public bool IsDone => RawData == "[DONE]";

    /// <summary>The <c>type</c> of the data (Anthropic, Responses), else the event name.</summary>
    public string? Type => (string?)Data?["type"] ?? Name;
}

/// <summary>Reads what the proxy sent back to a client.</summary>
internal static class ClientWire
{
    public static List<ClientEvent> Sse(string text) =>
        [.. StreamHarness.ParseSse(text).Select(e => new ClientEvent(e.Event, e.Data, e.Data == "[DONE]" ? null : JsonNode.Parse(e.Data) as JsonObject))];

    public static JsonObject Object(string text) => JsonNode.Parse(text)!.AsObject();
}
