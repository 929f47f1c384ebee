using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIChat;

/// <summary>
/// The request decoder reading the client body as a <see cref="JsonElement"/>: exact error messages and paths, JSON null
/// and number rules, and a canonical request that outlives the body's document.
/// </summary>
public class RequestDecodeElementTests
{
    private static ChatRequest Decode(string json)
    {
        using var document = JsonDocument.Parse(json);
        return OpenAIChatCodec.Instance.DecodeRequest(document.RootElement);
    }

    private const string User = """{"role":"user","content":"hi"}""";

    [Theory]
    [InlineData("""{"model":"m"}""", "'messages' is required")]
    [InlineData("""{"model":"m","messages":null}""", "'messages' is required")]
    [InlineData("""{"model":"m","messages":"hi"}""", "'messages' must be an array")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},null]}""", "'messages[2]' must be an object")]
    [InlineData("""{"messages":[{"role":7}]}""", "'messages[0].role' must be a string")]
    [InlineData("""{"messages":[{"role":null}]}""", "'messages[0].role' is required")]
    [InlineData("""{"messages":[{"role":"user","name":1}]}""", "'messages[0].name' must be a string")]
    [InlineData("""{"messages":[{"role":"wizard","name":1}]}""", "'messages[0].name' must be a string")]
    [InlineData("""{"messages":[{"role":"function","content":"x"}]}""", "'messages[0].role' \"function\" is deprecated and not supported; use \"tool\" messages")]
    [InlineData("""{"messages":[{"role":"system","content":true}]}""", "'messages[0].content' must be a string or an array of content parts")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":"a"},"b"]}]}""", "'messages[0].content[1]' must be an object")]
    [InlineData("""{"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"a"},{"type":5}]}]}""", "'messages[1].content[1].type' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text"}]}]}""", "'messages[0].content[0].text' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}""", "'messages[0].content[0].text' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}""", "'messages[0].content[0].image_url.url' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":""}]}]}""", "'messages[0].content[0].image_url.url' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":[]}]}]}""", "'messages[0].content[0].image_url' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":1}}]}]}""", "'messages[0].content[0].image_url.url' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":1}}]}]}""", "'messages[0].content[0].image_url.detail' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio"}]}]}""", "'messages[0].content[0].input_audio' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":"x"}]}]}""", "'messages[0].content[0].input_audio' must be an object")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x"}}]}]}""", "'messages[0].content[0].input_audio.format' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"format":"wav"}}]}]}""", "'messages[0].content[0].input_audio.data' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}""", "'messages[0].content[0].file' needs 'file_data' or 'file_id'")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file"}]}]}""", "'messages[0].content[0].file' is required")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":1}}]}]}""", "'messages[0].content[0].file.file_data' must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f","filename":2}}]}]}""", "'messages[0].content[0].file.filename' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":{}}]}""", "'messages[0].tool_calls' must be an array")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[1]}]}""", "'messages[0].tool_calls[0]' must be an object")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f"}},{"type":"custom","id":"b"}]}]}""", "'messages[0].tool_calls[1].type' \"custom\" is not supported")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"type":3}]}]}""", "'messages[0].tool_calls[0].type' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"id":"c"}]}]}""", "'messages[0].tool_calls[0].function' is required")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":"f"}]}]}""", "'messages[0].tool_calls[0].function' must be an object")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":[]}}]}]}""", "'messages[0].tool_calls[0].function.arguments' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","thinking_blocks":{}}]}""", "'messages[0].thinking_blocks' must be an array")]
    [InlineData("""{"messages":[{"role":"assistant","thinking_blocks":[{"type":"x"},{"type":"thinking","signature":1}]}]}""", "'messages[0].thinking_blocks[1].signature' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","thinking_blocks":[{"type":"thinking","thinking":1,"signature":"s"}]}]}""", "'messages[0].thinking_blocks[0].thinking' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","reasoning_content":1}]}""", "'messages[0].reasoning_content' must be a string")]
    [InlineData("""{"messages":[{"role":"assistant","reasoning":1}]}""", "'messages[0].reasoning' must be a string")]
    [InlineData("""{"messages":[{"role":"tool","tool_call_id":5}]}""", "'messages[0].tool_call_id' must be a string")]
    [InlineData("""{"messages":[],"tools":{}}""", "'tools' must be an array")]
    [InlineData("""{"messages":[],"tools":[{"type":"function","function":{"name":"a"}},null]}""", "'tools[1]' must be an object")]
    [InlineData("""{"messages":[],"tools":[{"type":1}]}""", "'tools[0].type' must be a string")]
    [InlineData("""{"messages":[],"tools":[{"function":{}}]}""", "'tools[0].function.name' is required")]
    [InlineData("""{"messages":[],"tools":[{"function":{"name":"f","description":1}}]}""", "'tools[0].function.description' must be a string")]
    [InlineData("""{"messages":[],"tools":[{"function":{"name":"f","parameters":[]}}]}""", "'tools[0].function.parameters' must be an object")]
    [InlineData("""{"messages":[],"tools":[{"function":{"name":"f","strict":"yes"}}]}""", "'tools[0].function.strict' must be a boolean")]
    [InlineData("""{"messages":[],"tool_choice":1}""", "'tool_choice' must be a string or an object")]
    [InlineData("""{"messages":[],"tool_choice":{}}""", "'tool_choice.type' is required")]
    [InlineData("""{"messages":[],"tool_choice":{"type":"function"}}""", "'tool_choice.function.name' is required")]
    [InlineData("""{"messages":[],"tool_choice":{"type":"function","function":1}}""", "'tool_choice.function' must be an object")]
    [InlineData("""{"messages":[],"tool_choice":{"type":"function","function":{}}}""", "'tool_choice.function.name' is required")]
    [InlineData("""{"messages":[],"response_format":"json"}""", "'response_format' must be an object")]
    [InlineData("""{"messages":[],"response_format":{}}""", "'response_format.type' is required")]
    [InlineData("""{"messages":[],"response_format":{"type":"json_schema"}}""", "'response_format.json_schema' is required")]
    [InlineData("""{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":1}}}""", "'response_format.json_schema.name' must be a string")]
    [InlineData("""{"messages":[],"response_format":{"type":"json_schema","json_schema":{"schema":true}}}""", "'response_format.json_schema.schema' must be an object")]
    [InlineData("""{"messages":[],"response_format":{"type":"json_schema","json_schema":{"strict":1}}}""", "'response_format.json_schema.strict' must be a boolean")]
    [InlineData("""{"messages":[],"stream_options":[]}""", "'stream_options' must be an object")]
    [InlineData("""{"messages":[],"stream_options":{"include_usage":1}}""", "'stream_options.include_usage' must be a boolean")]
    [InlineData("""{"messages":[],"parallel_tool_calls":0}""", "'parallel_tool_calls' must be a boolean")]
    [InlineData("""{"messages":[],"user":0}""", "'user' must be a string")]
    [InlineData("""{"messages":[],"reasoning_effort":0}""", "'reasoning_effort' must be a string")]
    [InlineData("""{"messages":[],"top_p":"x"}""", "'top_p' must be a number")]
    [InlineData("""{"messages":[],"top_k":2.5}""", "'top_k' must be an integer")]
    [InlineData("""{"messages":[],"n":3000000000}""", "'n' is out of range")]
    [InlineData("""{"messages":[],"seed":1e20}""", "'seed' must be an integer")]
    [InlineData("""{"messages":[],"seed":"1"}""", "'seed' must be an integer")]
    [InlineData("""{"messages":[],"max_tokens":true}""", "'max_tokens' must be an integer")]
    [InlineData("""{"messages":[],"max_completion_tokens":-3000000000}""", "'max_completion_tokens' is out of range")]
    [InlineData("""{"messages":[],"stop":5}""", "'stop' must be a string")]
    [InlineData("""{"messages":[],"stop":["a",null]}""", "'stop[1]' is required")]
    // Several errors: the first in the decoder's reading order is reported.
    [InlineData("""{"model":1,"messages":"x","tools":1}""", "'model' must be a string")]
    [InlineData("""{"messages":"x","tools":1,"temperature":"x"}""", "'tools' must be an array")]
    [InlineData("""{"temperature":"x","tool_choice":1,"messages":"x"}""", "'messages' must be an array")]
    [InlineData("""{"messages":[],"temperature":"x","tool_choice":1}""", "'tool_choice' must be a string or an object")]
    public void ErrorsNameTheFieldExactly(string body, string message)
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode(body));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void JsonNullReadsAsAbsentEverywhere()
    {
        var request = Decode($$$"""
            {"model":null,"messages":[{{{User}}},{"role":"user","content":null,"name":null},
               {"role":"assistant","content":null,"tool_calls":null,"thinking_blocks":null,"reasoning_content":null,"reasoning":"why"},
               {"role":"assistant","tool_calls":[{"id":"c","type":null,"function":{"name":"f","arguments":null}}]},
               {"role":"user","content":[{"type":"text","text":"x","cache_control":null}]}],
             "tools":null,"tool_choice":null,"parallel_tool_calls":null,"reasoning_effort":null,"temperature":null,"top_p":null,
             "top_k":null,"max_tokens":null,"max_completion_tokens":null,"stop":null,"seed":null,"presence_penalty":null,
             "frequency_penalty":null,"n":null,"response_format":null,"stream":null,"stream_options":null,"user":null,"store":null}
            """);

        Assert.Equal("", request.Model);
        Assert.Empty(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.ResponseFormat);
        Assert.Null(request.Reasoning);
        Assert.False(request.Stream);
        Assert.Empty(request.Sampling.StopSequences);
        Assert.Null(request.Sampling.MaxOutputTokens);
        Assert.Empty(request.Extensions);
        Assert.Empty(request.Messages[1].Parts);
        Assert.Null(request.Messages[1].Name);
        Assert.Equal("why", Assert.IsType<ReasoningPart>(Assert.Single(request.Messages[2].Parts)).Text);
        Assert.Equal("{}", Assert.IsType<ToolCallPart>(Assert.Single(request.Messages[3].Parts)).Arguments);
        Assert.Null(request.Messages[4].Parts[0].Extensions);
    }

    [Fact]
    public void NumbersFollowTheIntegerAndDoubleRules()
    {
        var request = Decode("""
            {"messages":[],"temperature":1,"top_p":5e-1,"top_k":40.0,"seed":-9007199254740993,"n":2E0,
             "presence_penalty":-2,"frequency_penalty":1.25,"max_tokens":1e3}
            """);

        var s = request.Sampling;
        Assert.Equal((1.0, 0.5, 40, -9007199254740993L, 2), (s.Temperature, s.TopP, s.TopK, s.Seed, s.CandidateCount));
        Assert.Equal((-2.0, 1.25, 1000), (s.PresencePenalty, s.FrequencyPenalty, s.MaxOutputTokens));
    }

    [Fact]
    public void MaxTokensIsNotCheckedWhenMaxCompletionTokensIsGiven()
    {
        var request = Decode("""{"messages":[],"max_completion_tokens":10,"max_tokens":"ignored"}""");
        Assert.Equal(10, request.Sampling.MaxOutputTokens);
        Assert.Equal(10, request.Extensions[ChatRequestDecoder.MaxCompletionTokensKey]!.GetValue<int>());
    }

    [Fact]
    public void EdgeFormsDecodeAsBefore()
    {
        var request = Decode("""
            {"messages":[
               {"role":"user","content":""},
               {"role":"user","content":[{"type":"image_url","image_url":"https://x/cat.png","cache_control":{"type":"ephemeral"}},
                 {"type":"refusal","refusal":"no","extra":null}]},
               {"role":"assistant","reasoning_content":"","reasoning":"ignored",
                "thinking_blocks":[{"type":"redacted"},"junk",{"type":1}],
                "tool_calls":[{"id":"c1","function":{"name":"f","arguments":{"a":"é<+>","b":[1,2.50]}}},{"id":"c2","function":{"name":"g","arguments":""}}]},
               {"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2"},{"role":"wizard","content":5}],
             "tools":[{"type":"function","google_search":null},{"type":"custom","url_context":{"x":1}}],
             "tool_choice":"sometimes"}
            """);

        Assert.Empty(request.Messages[0].Parts);
        var image = Assert.IsType<ImagePart>(request.Messages[1].Parts[0]);
        Assert.Equal("https://x/cat.png", image.Url);
        JsonAssert.Equal("""{"openai.cache_control":{"type":"ephemeral"}}""", image.Extensions);
        var native = Assert.IsType<NativePart>(request.Messages[1].Parts[1]);
        JsonAssert.Equal("""{"type":"refusal","refusal":"no","extra":null}""", native.Json);
        var assistant = request.Messages[2].Parts;
        Assert.Equal(2, assistant.Count);
        Assert.Equal("""{"a":"é<+>","b":[1,2.50]}""", Assert.IsType<ToolCallPart>(assistant[0]).Arguments);
        Assert.Equal("{}", Assert.IsType<ToolCallPart>(assistant[1]).Arguments);
        var results = request.Messages[3].Parts.Cast<ToolResultPart>().ToList();
        Assert.Equal([("c1", "f"), ("c2", "g")], results.Select(r => (r.ToolCallId, r.Name!)));
        Assert.Empty(results[1].Content);
        Assert.Equal(4, request.Messages.Count);
        Assert.Equal((ToolKind.GoogleSearch, "{}"), (request.Tools[0].Kind, JsonText.Serialize(request.Tools[0].Config)));
        Assert.Equal((ToolKind.UrlContext, """{"x":1}"""), (request.Tools[1].Kind, JsonText.Serialize(request.Tools[1].Config)));
        Assert.Null(request.ToolChoice);
    }

    [Fact]
    public void TheCanonicalRequestOutlivesTheBodysDocument()
    {
        const string body = """
            {"model":"gpt-4.1","messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":[{"type":"text","text":"What is this?","cache_control":{"type":"ephemeral"}},
                 {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"cat\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"a cat"}],
             "tools":[{"type":"function","function":{"name":"lookup","description":"Search",
               "parameters":{"type":"object","properties":{"q":{"type":"string","enum":["cat","dog"]}},"required":["q"]}}}],
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object","properties":{"kind":{"type":"string"}}}}},
             "metadata":{"trace":"t-1","tags":["a","b"]}}
            """;
        ChatRequest request;
        // A rented buffer, overwritten once the document is gone: anything still reading it would see the junk.
        var bytes = Encoding.UTF8.GetBytes(body);
        using (var document = JsonDocument.Parse(bytes))
        {
            request = OpenAIChatCodec.Instance.DecodeRequest(document.RootElement);
        }
        Array.Fill(bytes, (byte)' ');

        const string parameters = """{"type":"object","properties":{"q":{"type":"string","enum":["cat","dog"]}},"required":["q"]}""";
        const string schema = """{"type":"object","properties":{"kind":{"type":"string"}}}""";
        var chat = OpenAIChatCodec.Instance.EncodeRequest(request, "up-model");
        JsonAssert.Equal(parameters, chat["tools"]![0]!["function"]!["parameters"]);
        JsonAssert.Equal(schema, chat["response_format"]!["json_schema"]!["schema"]);
        JsonAssert.Equal("""{"trace":"t-1","tags":["a","b"]}""", chat["metadata"]);
        JsonAssert.Equal("""{"type":"ephemeral"}""", chat["messages"]![1]!["content"]![0]!["cache_control"]);
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", chat["messages"]![1]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.Equal("{\"q\":\"cat\"}", chat["messages"]![2]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        // Serializing walks every kept node, including the lazy ones over copied elements.
        Assert.Contains("\"enum\":[\"cat\",\"dog\"]", JsonText.Serialize(chat));

        var anthropic = AnthropicCodec.Instance.EncodeRequest(request, "claude-x");
        JsonAssert.Equal(parameters, anthropic["tools"]![0]!["input_schema"]);
        var text = JsonText.Serialize(anthropic);
        Assert.Contains("\"properties\":{\"kind\":{\"type\":\"string\"}}", text);
        Assert.Contains("iVBORw0KGgo=", text);
        Assert.Contains("\"input\":{\"q\":\"cat\"}", text);
    }
}

/// <summary>Data URLs are split on the body's bytes when they can be; the result must be what <see cref="DataUrl.TryParse"/> gives on the string.</summary>
public class RequestDecodeDataUrlTests
{
    [Theory]
    [InlineData("data:image/png;base64,iVBORw0KGgo=")]
    [InlineData("DATA:Image/PNG;BASE64,iVBORw0KGgo=")]
    [InlineData("data:;base64,QUJD")]
    [InlineData("data:image/png;charset=x;base64,QUJD;base64,more")]
    [InlineData("data:image/png;base,64;base64,QUJD")]
    [InlineData("data:text/plain,hello")]
    [InlineData("data:")]
    [InlineData("dat")]
    [InlineData("https://example.com/a;base64,b.png")]
    [InlineData("data:image/p\u00e9ng;base64,QUJD")]
    [InlineData("data:image/png;base64,QU\u00e9JD")]
    [InlineData("data:image/png;ba\u017Fe64,QUJD")]
    [InlineData("data:image\\/png;base64,QUJD\\/")]
    [InlineData("data:image/png;base64,")]
    public void ImageAndFileUrlsSplitAsDataUrlDoes(string url)
    {
        var json = JsonSerializer.Serialize(url); // escapes non-ASCII and the backslash, as many clients do
        var raw = "\"" + url + "\""; // and the same text unescaped where JSON allows it
        foreach (var quoted in new[] { json, url.Contains('\\') ? json : raw })
        {
            using var document = JsonDocument.Parse($$$"""
                {"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":{{{quoted}}}}},
                  {"type":"file","file":{"file_data":{{{quoted}}},"filename":"a.txt"}}]}]}
                """);
            var parts = OpenAIChatCodec.Instance.DecodeRequest(document.RootElement).Messages[0].Parts;
            var expectedUrl = document.RootElement.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("image_url").GetProperty("url").GetString()!;
            var image = Assert.IsType<ImagePart>(parts[0]);
            var file = Assert.IsType<DocumentPart>(parts[1]);
            if (DataUrl.TryParse(expectedUrl, out var mediaType, out var data))
            {
                Assert.Equal((mediaType, data, null), (image.MediaType, image.Data, image.Url));
                Assert.Equal((mediaType, data), (file.MediaType, file.Data));
            }
            else
            {
                Assert.Equal((null, null, expectedUrl), (image.MediaType, image.Data, image.Url));
                Assert.Equal(("text/plain", expectedUrl), (file.MediaType, file.Data));
            }
        }
    }
}
