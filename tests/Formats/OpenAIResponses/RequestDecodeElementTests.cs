using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Formats.OpenAIResponses;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.OpenAIResponses;

/// <summary>The request decoder reads the client's element: what it keeps outlives the document, errors name their path, null reads as absent.</summary>
public sealed class RequestDecodeElementTests
{
    private static readonly OpenAIResponsesCodec Codec = OpenAIResponsesCodec.Instance;

    private const string AgentBody = """
    {
      "model": "gpt-5",
      "instructions": "Be exact.",
      "input": [
        {"type": "message", "role": "user", "content": [
          {"type": "input_text", "text": "What animal is this?"},
          {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}
        ]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup", "arguments": "{\"q\":\"cat\"}", "status": "completed"},
        {"type": "function_call_output", "call_id": "call_1", "output": "a cat, 4 kg"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "cats"}}
      ],
      "tools": [
        {"type": "function", "name": "lookup", "description": "Looks an animal up", "strict": true,
         "parameters": {"type": "object", "properties": {"q": {"type": "string", "enum": ["cat", "dog"]}}, "required": ["q"], "additionalProperties": false}},
        {"type": "web_search", "search_context_size": "high", "user_location": {"type": "approximate", "country": "FR"}}
      ],
      "text": {"format": {"type": "json_schema", "name": "answer", "strict": true,
        "schema": {"type": "object", "properties": {"animal": {"type": "string"}, "weight": {"type": "number", "minimum": 0.5}}, "required": ["animal"]}},
        "verbosity": "low"},
      "reasoning": {"effort": "low", "generate_summary": "concise"},
      "metadata": {"ticket": "T-9", "tags": ["a", "b"], "score": 1.50},
      "prompt_cache_key": "k-1"
    }
    """;

    private const string Parameters = """{"type":"object","properties":{"q":{"type":"string","enum":["cat","dog"]}},"required":["q"],"additionalProperties":false}""";
    private const string Schema = """{"type":"object","properties":{"animal":{"type":"string"},"weight":{"type":"number","minimum":0.5}},"required":["animal"]}""";

    /// <summary>
    /// The host disposes the pooled document right after decoding: a node still over it would throw
    /// ObjectDisposedException (or read reused memory) when the request is encoded for the upstream.
    /// </summary>
    [Fact]
    public void The_request_outlives_the_disposed_document()
    {
        ChatRequest request;
        using (var document = JsonDocument.Parse(AgentBody)) request = Codec.DecodeRequest(document.RootElement);
        // Reuse the pool the document returned its buffers to, so stale references would see other bytes.
        using (JsonDocument.Parse(AgentBody.Replace("cat", "dog"))) { }

        var responses = Codec.EncodeRequest(request, "upstream-model");

        var tools = responses["tools"]!.AsArray();
        JsonAssert.Equal(Parameters, tools[0]!["parameters"]);
        JsonAssert.Equal("""{"type":"web_search","search_context_size":"high","user_location":{"type":"approximate","country":"FR"}}""", tools[1]);
        JsonAssert.Equal(Schema, responses["text"]!["format"]!["schema"]);
        Assert.Equal("low", (string?)responses["text"]!["verbosity"]);
        Assert.Equal("concise", (string?)responses["reasoning"]!["generate_summary"]);
        JsonAssert.Equal("""{"ticket":"T-9","tags":["a","b"],"score":1.50}""", responses["metadata"]);
        Assert.Equal("1.50", responses["metadata"]!["score"]!.ToJsonString());
        Assert.Equal("k-1", (string?)responses["prompt_cache_key"]);

        var input = responses["input"]!.AsArray();
        var image = input.Select(i => i!["content"]).OfType<JsonArray>().SelectMany(c => c).Single(c => (string?)c!["type"] == "input_image");
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", (string?)image!["image_url"]);
        var call = input.Single(i => (string?)i!["type"] == "function_call")!;
        Assert.Equal(("call_1", "lookup", "{\"q\":\"cat\"}", "completed"), ((string?)call["call_id"], (string?)call["name"], (string?)call["arguments"], (string?)call["status"]));
        Assert.Equal("a cat, 4 kg", (string?)input.Single(i => (string?)i!["type"] == "function_call_output")!["output"]);
        JsonAssert.Equal("""{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"cats"}}""",
            input.Single(i => (string?)i!["type"] == "web_search_call"));

        var chat = OpenAIChatCodec.Instance.EncodeRequest(request, "upstream-model");

        JsonAssert.Equal(Parameters, chat["tools"]![0]!["function"]!["parameters"]);
        JsonAssert.Equal(Schema, chat["response_format"]!["json_schema"]!["schema"]);
        var messages = chat["messages"]!.AsArray();
        var user = messages.Single(m => (string?)m!["role"] == "user")!;
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", (string?)user["content"]![1]!["image_url"]!["url"]);
        Assert.Equal("{\"q\":\"cat\"}", (string?)messages.Single(m => m!["tool_calls"] is not null)!["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal("a cat, 4 kg", (string?)messages.Single(m => (string?)m!["role"] == "tool")!["content"]);
    }

    [Fact]
    public void Decoding_the_element_and_the_dom_give_the_same_request()
    {
        using var document = JsonDocument.Parse(RequestDecodeTests.ToolLoopBody);
        var fromElement = Codec.DecodeRequest(document.RootElement);
        var fromDom = Codec.DecodeRequest(JsonNode.Parse(RequestDecodeTests.ToolLoopBody)!.AsObject());

        JsonAssert.Equal(Codec.EncodeRequest(fromDom, "m"), Codec.EncodeRequest(fromElement, "m"));
        JsonAssert.Equal(fromDom.Extensions, fromElement.Extensions);
    }

    [Theory]
    [InlineData("""{"input":[{"role":"user","content":"a"},{"role":"user","content":["x"]}]}""", "input[1].content[0] must be an object")]
    [InlineData("""{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"a"},{"type":"input_text"}]}]}""", "input[0].output[1].text is required")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_image","detail":"low"}]}]}""", "input[0].content[0] needs image_url or file_id")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_image","image_url":5}]}]}""", "input[0].content[0].image_url must be a string")]
    [InlineData("""{"input":[{"type":7}]}""", "input[0].type must be a string")]
    [InlineData("""{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":[1]}]}""", "input[0].arguments must be a string")]
    [InlineData("""{"input":[{"type":"function_call","call_id":"c","name":"f","id":3}]}""", "input[0].id must be a string")]
    [InlineData("""{"input":[{"role":null,"content":"a"}]}""", "input[0].role is required")]
    [InlineData("""{"input":"hi","tools":[{"type":"function","name":"f"},7]}""", "tools[1] must be an object")]
    [InlineData("""{"input":"hi","tools":[{"type":"function","name":"f","parameters":[]}]}""", "tools[0].parameters must be an object")]
    [InlineData("""{"input":"hi","tool_choice":{"type":"function"}}""", "tool_choice.name is required")]
    [InlineData("""{"input":"hi","tool_choice":true}""", "tool_choice must be a string or an object")]
    [InlineData("""{"input":"hi","reasoning":{"summary":1}}""", "reasoning.summary must be a string")]
    [InlineData("""{"input":"hi","text":{"format":"json"}}""", "text.format must be an object")]
    [InlineData("""{"input":"hi","text":{"format":{"type":"json_schema","schema":"x"}}}""", "text.format.schema must be an object")]
    [InlineData("""{"input":"hi","max_output_tokens":3000000000}""", "max_output_tokens must be an integer")]
    [InlineData("""{"input":null}""", "input is required")]
    public void Errors_name_the_path_of_the_bad_field(string body, string expected)
    {
        using var document = JsonDocument.Parse(body);
        var error = Assert.Throws<RequestFormatException>(() => Codec.DecodeRequest(document.RootElement));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Json_null_reads_as_absent_and_unknown_nulls_are_kept()
    {
        using var document = JsonDocument.Parse("""
            {"model":null,"input":[{"type":null,"role":"user","content":null},{"role":"user","content":"hi","id":null}],
             "instructions":null,"tools":null,"tool_choice":null,"reasoning":null,"text":null,"temperature":null,
             "max_output_tokens":null,"stream":null,"metadata":null}
            """);
        var request = Codec.DecodeRequest(document.RootElement);

        Assert.Equal("", request.Model);
        Assert.Empty(request.System);
        Assert.Empty(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.Reasoning);
        Assert.Null(request.ResponseFormat);
        Assert.Null(request.Sampling.Temperature);
        Assert.Null(request.Sampling.MaxOutputTokens);
        Assert.False(request.Stream);
        Assert.Equal([Role.User, Role.User], request.Messages.Select(m => m.Role));
        Assert.Empty(request.Messages[0].Parts);
        var text = Assert.IsType<TextPart>(Assert.Single(request.Messages[1].Parts));
        Assert.Null(text.Extensions);
        Assert.True(request.Extensions.ContainsKey("responses.metadata"));
        Assert.Null(request.Extensions["responses.metadata"]);
    }

    [Fact]
    public void Object_arguments_are_written_as_compact_json()
    {
        using var document = JsonDocument.Parse("""{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":{ "city" : "Zürich", "n": 2 }}]}""");
        var call = Assert.IsType<ToolCallPart>(Assert.Single(Assert.Single(Codec.DecodeRequest(document.RootElement).Messages).Parts));

        Assert.Equal("""{"city":"Z\u00FCrich","n":2}""", call.Arguments);
    }

    [Fact]
    public void A_reasoning_item_keeps_several_summaries_its_content_and_unknown_fields()
    {
        using var document = JsonDocument.Parse("""
            {"input":[{"type":"reasoning","id":"rs_1","status":"done","summary":[{"type":"summary_text","text":"one"},7,{"type":"summary_text"},{"type":"summary_text","text":"three"}],
              "content":[{"type":"reasoning_text","text":"raw"}],"encrypted_content":""}]}
            """);
        var reasoning = Assert.IsType<ReasoningPart>(Assert.Single(Assert.Single(Codec.DecodeRequest(document.RootElement).Messages).Parts));

        Assert.Equal("one\n\n\n\nthree", reasoning.Text);
        Assert.Null(reasoning.Signature);
        Assert.Equal("rs_1", (string?)reasoning.Extensions?["responses.id"]);
        JsonAssert.Equal("""[{"type":"summary_text","text":"one"},7,{"type":"summary_text"},{"type":"summary_text","text":"three"}]""", reasoning.Extensions?["responses.summary"]);
        JsonAssert.Equal("""[{"type":"reasoning_text","text":"raw"}]""", reasoning.Extensions?["responses.content"]);
        JsonAssert.Equal("""{"status":"done"}""", reasoning.Extensions?["responses.extra"]);
    }

    /// <summary>Image and file data URLs are split from the raw bytes; the split must be the one DataUrl.TryParse makes on the string.</summary>
    [Theory]
    [InlineData("data:image/png;base64,iVBORw0KGgo=")]
    [InlineData("DATA:Image/PNG;BASE64,iVBORw0KGgo=")]
    [InlineData("data:;base64,AAAA")]
    [InlineData("data:image/png;x=1;Base64,AAAA;base64,BBBB")]
    [InlineData(@"data:image\/png;base64,AB\/CD")]
    [InlineData("data:image/png;base64,")]
    [InlineData("data:text/plain,hello")]
    [InlineData("data:image/pñg;base64,AAAA")]
    [InlineData("data:image/png;base64,ÄÖ")]
    [InlineData("https://example.com/a;base64,not-data")]
    [InlineData(";base64,AAAA")]
    [InlineData("data")]
    [InlineData("")]
    public void Data_urls_split_as_DataUrl_splits_them(string jsonString)
    {
        using var document = JsonDocument.Parse($$"""
            {"input":[{"role":"user","content":[{"type":"input_image","image_url":"{{jsonString}}"},{"type":"input_file","file_data":"{{jsonString}}"}]}]}
            """);
        var parts = Assert.Single(Codec.DecodeRequest(document.RootElement).Messages).Parts;
        var url = JsonDocument.Parse($"\"{jsonString}\"").RootElement.GetString()!;
        var isData = DataUrl.TryParse(url, out var mediaType, out var data);

        var image = Assert.IsType<ImagePart>(parts[0]);
        Assert.Equal(isData ? (null, mediaType, data) : (url, null, null), (image.Url, image.MediaType, image.Data));
        var file = Assert.IsType<DocumentPart>(parts[1]);
        Assert.Equal(isData ? (mediaType, data) : (null, url), (file.MediaType, file.Data));
    }
}
