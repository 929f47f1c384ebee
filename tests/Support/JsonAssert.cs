using System.Text.Json.Nodes;
using PluginProxy.Formats.Json;

namespace PluginProxy.Tests.Support;

/// <summary>Structural JSON comparison with readable failure output.</summary>
public static class JsonAssert
{
    public static void Equal(string expectedJson, JsonNode? actual)
    {
        var expected = JsonNode.Parse(expectedJson);
        if (!JsonNode.DeepEquals(expected, actual))
            Assert.Fail($"JSON differs.\nExpected: {JsonText.Serialize(expected)}\nActual:   {JsonText.Serialize(actual)}");
    }

    public static void Equal(JsonNode? expected, JsonNode? actual)
    {
        if (!JsonNode.DeepEquals(expected, actual))
            Assert.Fail($"JSON differs.\nExpected: {JsonText.Serialize(expected)}\nActual:   {JsonText.Serialize(actual)}");
    }
}
