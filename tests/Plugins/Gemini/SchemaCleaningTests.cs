using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>One server for the schema rules: each case sends a tool schema from a chat client and reads what Gemini got.</summary>
public sealed class SchemaCleaningFixture : IAsyncLifetime
{
    internal GeminiProxy Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Proxy = await GeminiProxy.StartAsync(AccountKind.ApiKey);
        Proxy.Responder = _ => GeminiReply.Json("""{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}]}""");
    }

    public async Task DisposeAsync() => await Proxy.DisposeAsync();
}

/// <summary>Each rule of the schema cleaning (plugins/Gemini/Body/SchemaCleaner.cs), one case each.</summary>
public sealed class SchemaCleaningTests(SchemaCleaningFixture fixture) : IClassFixture<SchemaCleaningFixture>
{
    [Theory]
    // Keywords Gemini has no field for are dropped ($schema, uniqueItems, x-*), property names never.
    [InlineData("""{"$schema":"x","type":"object","x-tag":1,"properties":{"format":{"type":"array","uniqueItems":true,"items":{"type":"string"}}}}""",
                """{"type":"object","properties":{"format":{"type":"array","items":{"type":"string"}}}}""")]
    // Exclusive bounds become inclusive ones: integers one step inside, numbers at the bound.
    [InlineData("""{"type":"object","properties":{"n":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10},"x":{"type":"number","exclusiveMinimum":0.5}}}""",
                """{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9},"x":{"type":"number","minimum":0.5}}}""")]
    // const becomes a one-value enum.
    [InlineData("""{"type":"object","properties":{"kind":{"type":"string","const":"fixed"}}}""",
                """{"type":"object","properties":{"kind":{"type":"string","enum":["fixed"]}}}""")]
    // allOf parts are merged into the schema.
    [InlineData("""{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"number"}},"required":["b"]}]}""",
                """{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}},"required":["a","b"]}""")]
    // required names that are not properties are dropped (Gemini refuses them); none left drops the keyword.
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a","ghost"],"additionalProperties":false}""",
                """{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}""")]
    // Draft-7 definitions become $defs, references included.
    [InlineData("""{"type":"object","properties":{"p":{"$ref":"#/definitions/P"}},"definitions":{"P":{"type":"string","examples":["a"]}}}""",
                """{"type":"object","properties":{"p":{"$ref":"#/$defs/P"}},"$defs":{"P":{"type":"string"}}}""")]
    // enum values other than strings and numbers are dropped.
    [InlineData("""{"type":"object","properties":{"e":{"enum":["a",1,null,true]}}}""",
                """{"type":"object","properties":{"e":{"enum":["a",1]}}}""")]
    public async Task Json_schema_parameters(string schema, string expected)
    {
        var proxy = fixture.Proxy;
        var before = proxy.Requests.Count;
        var (status, body, _) = await proxy.PostAsync("/v1/chat/completions",
            $$$"""{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{{{schema}}}}}]}""");

        Assert.True(status == 200, body);
        var sent = proxy.Requests[before].Json!["tools"]![0]!["functionDeclarations"]![0]!;
        JsonAssert.Equal(expected, sent["parametersJsonSchema"]);
    }

    [Theory]
    // Gemini's OpenAPI Schema (a Gemini client's "parameters"): type lists become nullable, oneOf anyOf, $ref is inlined,
    // additionalProperties and unsupported formats go, enums are strings.
    [InlineData("""{"type":"object","properties":{"s":{"type":["string","null"],"format":"uri"},"o":{"oneOf":[{"type":"string"},{"type":"integer"}]},"r":{"$ref":"#/$defs/R"},"e":{"type":"integer","enum":[1,2]}},"additionalProperties":false,"$defs":{"R":{"type":"string","description":"ref"}}}""",
                """{"type":"object","properties":{"s":{"type":"string","nullable":true},"o":{"anyOf":[{"type":"string"},{"type":"integer"}]},"r":{"type":"string","description":"ref"},"e":{"type":"string","enum":["1","2"]}}}""")]
    // A null branch of anyOf becomes nullable and a single remaining branch is inlined.
    [InlineData("""{"type":"object","properties":{"v":{"anyOf":[{"type":"number"},{"type":"null"}],"description":"v"}}}""",
                """{"type":"object","properties":{"v":{"type":"number","nullable":true,"description":"v"}}}""")]
    public async Task OpenApi_parameters(string schema, string expected)
    {
        var proxy = fixture.Proxy;
        var before = proxy.Requests.Count;
        // The thinking suffix makes a Gemini client go through translation, where shaping applies.
        var (status, body, _) = await proxy.PostAsync("/v1beta/models/gemini-2.5-pro(1024):generateContent",
            $$$"""{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{{{schema}}}}]}]}""");

        Assert.True(status == 200, body);
        var sent = proxy.Requests[before].Json!["tools"]![0]!["functionDeclarations"]![0]!;
        JsonAssert.Equal(expected, sent["parameters"]);
    }
}
