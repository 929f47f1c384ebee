using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Gemini;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Gemini;

/// <summary>
/// The request decoder reads the client body as a <see cref="JsonElement"/> from a document the host disposes right
/// after decoding: error messages name the exact field, nulls and numbers read as the Gemini API reads them, and
/// nothing decoded refers to the disposed document.
/// </summary>
public sealed class GeminiRequestElementTests
{
    private static ChatRequest Decode(string json)
    {
        using var document = JsonDocument.Parse(json);
        return GeminiCodec.Instance.DecodeRequest(document.RootElement);
    }

    [Theory]
    [InlineData("""{"model":5,"contents":[]}""", "model must be a string")]
    [InlineData("""{"generateContentRequest":{"model":5,"contents":[]}}""", "generateContentRequest.model must be a string")]
    [InlineData("""{"contents":[{"role":5}]}""", "contents[0].role must be a string")]
    [InlineData("""{"contents":[{"parts":[{"text":"a"}]},{"role":"user","parts":[{"text":"b"},{"thoughtSignature":5}]}]}""", "contents[1].parts[1].thoughtSignature must be a string")]
    [InlineData("""{"contents":[{"parts":[{"functionCall":5}]}]}""", "contents[0].parts[0].functionCall must be an object")]
    [InlineData("""{"contents":[{"parts":[{"thought":"yes","text":"a"}]}]}""", "contents[0].parts[0].thought must be a boolean")]
    [InlineData("""{"contents":[{"parts":[{"functionResponse":{"name":"f","response":"x"}}]}]}""", "contents[0].parts[0].functionResponse.response must be an object")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","parts":[{"text":"a"},{"inlineData":{"mimeType":"image/png"}}]}}]}]}""", "contents[0].parts[0].functionResponse.parts[1].inlineData.data is required")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","parts":[7]}}]}]}""", "contents[0].parts[0].functionResponse.parts[0] must be an object")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"fileData":{"mimeType":"image/png"}}]}]}""", "contents[0].parts[0].fileData.fileUri is required")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"file_data":{"mime_type":5}}]}]}""", "contents[0].parts[0].fileData.mimeType must be a string")]
    [InlineData("""{"contents":[],"systemInstruction":{"parts":[{"text":1}]}}""", "systemInstruction.parts[0].text must be a string")]
    [InlineData("""{"contents":[],"systemInstruction":{"parts":["x"]}}""", "systemInstruction.parts[0] must be an object")]
    [InlineData("""{"contents":[],"systemInstruction":{"parts":{}}}""", "systemInstruction.parts must be an array")]
    [InlineData("""{"contents":[],"systemInstruction":5}""", "systemInstruction must be an object with parts")]
    [InlineData("""{"contents":[],"tools":[5]}""", "tools[0] must be an object")]
    [InlineData("""{"contents":[],"tools":[{"googleSearch":{}},{"functionDeclarations":{}}]}""", "tools[1].functionDeclarations must be an array")]
    [InlineData("""{"contents":[],"tools":[{"functionDeclarations":[{"name":"f"},3]}]}""", "tools[0].functionDeclarations[1] must be an object")]
    [InlineData("""{"contents":[],"tools":[{"functionDeclarations":[{"name":"f","description":5}]}]}""", "tools[0].functionDeclarations[0].description must be a string")]
    [InlineData("""{"contents":[],"tools":[{"function_declarations":[{"description":"x"}]}]}""", "tools[0].functionDeclarations[0].name is required")]
    [InlineData("""{"contents":[],"toolConfig":{"functionCallingConfig":{"allowedFunctionNames":[1]}}}""", "toolConfig.functionCallingConfig.allowedFunctionNames must hold strings")]
    [InlineData("""{"contents":[],"toolConfig":{"functionCallingConfig":{"mode":1}}}""", "toolConfig.functionCallingConfig.mode must be a string")]
    [InlineData("""{"contents":[],"toolConfig":{"function_calling_config":[]}}""", "toolConfig.functionCallingConfig must be an object")]
    [InlineData("""{"contents":[],"toolConfig":5}""", "toolConfig must be an object")]
    [InlineData("""{"contents":[],"generationConfig":[]}""", "generationConfig must be an object")]
    [InlineData("""{"contents":[],"generationConfig":{"top_k":3000000000}}""", "generationConfig.topK is out of range")]
    [InlineData("""{"contents":[],"generationConfig":{"topK":5.0}}""", "generationConfig.topK must be an integer")]
    [InlineData("""{"contents":[],"generationConfig":{"seed":"x"}}""", "generationConfig.seed must be an integer")]
    [InlineData("""{"contents":[],"generationConfig":{"top_p":true}}""", "generationConfig.topP must be a number")]
    [InlineData("""{"contents":[],"generationConfig":{"responseMimeType":5}}""", "generationConfig.responseMimeType must be a string")]
    [InlineData("""{"contents":[],"generationConfig":{"stopSequences":[1]}}""", "generationConfig.stopSequences must hold strings")]
    [InlineData("""{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":"x"}}}""", "generationConfig.thinkingConfig.thinkingBudget must be an integer")]
    [InlineData("""{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingLevel":2}}}""", "generationConfig.thinkingConfig.thinkingLevel must be a string")]
    [InlineData("""{"contents":[],"generationConfig":{"thinking_config":[]}}""", "generationConfig.thinkingConfig must be an object")]
    [InlineData("""{"contents":null}""", "contents is required")]
    public void Names_the_exact_field_in_errors(string body, string expected)
    {
        Assert.Equal(expected, Assert.Throws<RequestFormatException>(() => Decode(body)).Message);
        Assert.Equal(expected, Assert.Throws<RequestFormatException>(() => GeminiCodec.Instance.DecodeRequest(JsonNode.Parse(body)!.AsObject())).Message);
    }

    [Fact]
    public void Null_reads_as_absent_and_numbers_read_as_the_api_reads_them()
    {
        var request = Decode("""
        {
          "model": null,
          "contents": [{"role": null, "parts": [{"text": "a", "thoughtSignature": null, "thought": null, "functionCall": null}]}, {"role": "other", "parts": 5}],
          "systemInstruction": null, "tools": null, "toolConfig": null, "safetySettings": null, "labels": null,
          "generationConfig": {"temperature": 1, "topP": null, "topK": null, "top_k": 7, "maxOutputTokens": "64", "seed": "-12", "presencePenalty": -0.5, "responseModalities": null, "thinkingConfig": null}
        }
        """);

        Assert.Equal("", request.Model);
        var text = Assert.IsType<TextPart>(Assert.Single(Assert.Single(request.Messages).Parts));
        Assert.Equal(("a", null), (text.Text, text.Extensions));
        Assert.Empty(request.System);
        Assert.Empty(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.Reasoning);
        Assert.Empty(request.Extensions);
        var sampling = request.Sampling;
        Assert.Equal((1.0, (double?)null, 7, 64, -12L, -0.5), (sampling.Temperature, sampling.TopP, sampling.TopK, sampling.MaxOutputTokens, sampling.Seed, sampling.PresencePenalty));
    }

    [Fact]
    public void Candidate_count_written_with_an_exponent_is_not_an_integer()
    {
        var error = Assert.Throws<RequestFormatException>(() => Decode("""{"contents":[],"generationConfig":{"candidateCount":1e0}}"""));
        Assert.Equal("generationConfig.candidateCount must be an integer", error.Message);
    }

    [Fact]
    public void Camel_case_wins_over_snake_case_and_unknown_roles_are_skipped_unread()
    {
        var request = Decode("""
        {"contents": [{"role": "critic", "parts": [{"text": 5}]}, {"parts": [{"text": "kept", "thought_signature": "snake-sig"}]}],
         "generationConfig": {"top_k": 2, "topK": 3, "stop_sequences": ["a"], "response_modalities": ["TEXT"], "responseModalities": ["IMAGE"]}}
        """);

        var text = Assert.IsType<TextPart>(Assert.Single(Assert.Single(request.Messages).Parts));
        Assert.Equal("snake-sig", text.Extensions![GeminiMapping.SignatureKey]!.GetValue<string>());
        Assert.Equal(3, request.Sampling.TopK);
        Assert.Equal(["a"], request.Sampling.StopSequences);
        // Both spellings are copied in order; the later one is what the extension holds.
        JsonAssert.Equal("""["IMAGE"]""", request.Extensions["gemini.generationConfig.responseModalities"]);
    }

    [Fact]
    public void Function_response_keeps_error_and_other_shapes_as_the_dom_decoder_did()
    {
        var request = Decode("""
        {"contents": [
          {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"q": "ü<+>", "n": [1, 2.50]}}}, {"functionCall": {"name": "g"}}]},
          {"role": "user", "parts": [
            {"functionResponse": {"name": "f", "response": {"error": {"code": 1}}}},
            {"functionResponse": {"name": "g", "response": {"result": null}}},
            {"functionResponse": {"name": "h"}}
          ]}
        ]}
        """);

        var calls = request.Messages[0].Parts.Cast<ToolCallPart>().ToList();
        Assert.Equal("""{"q":"ü<+>","n":[1,2.50]}""", calls[0].Arguments);
        Assert.Equal("{}", calls[1].Arguments);
        var results = request.Messages[1].Parts.Cast<ToolResultPart>().ToList();
        Assert.True(results[0].IsError);
        Assert.Equal("""{"code":1}""", ((TextPart)results[0].Content.Single()).Text);
        Assert.False(results[1].IsError);
        Assert.Equal("""{"result":null}""", ((TextPart)results[1].Content.Single()).Text);
        Assert.Equal(("call_h_3", "{}"), (results[2].ToolCallId, ((TextPart)results[2].Content.Single()).Text));
    }

    [Fact]
    public void Nothing_decoded_refers_to_the_disposed_document()
    {
        const string body = """
        {
          "contents": [
            {"role": "user", "parts": [{"text": "Look"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]},
            {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"city": "Paris"}}, "thoughtSignature": "sig-1"}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"temp": 21}}}]}
          ],
          "tools": [
            {"functionDeclarations": [{"name": "lookup", "description": "Weather",
              "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "enum": ["Paris", "Rome"]}}, "required": ["city"]},
              "response": {"type": "OBJECT"}}]},
            {"googleSearch": {"timeRangeFilter": {"startTime": "2026-01-01T00:00:00Z"}}}
          ],
          "generationConfig": {"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}}},
            "responseModalities": ["TEXT"]},
          "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
          "cachedContent": "cachedContents/abc",
          "someFutureField": {"x": 1}
        }
        """;
        ChatRequest request;
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        using (var document = JsonDocument.Parse(bytes))
        {
            request = GeminiCodec.Instance.DecodeRequest(document.RootElement);
        }
        // The host's document is pooled: overwrite what it was parsed from, too.
        Array.Fill(bytes, (byte)' ');

        var gemini = GeminiCodec.Instance.EncodeRequest(request, "gemini-2.5-pro");
        var function = gemini["tools"]![0]!["functionDeclarations"]![0]!;
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Rome"]}},"required":["city"]}""", function["parameters"]);
        JsonAssert.Equal("""{"type":"OBJECT"}""", function["response"]);
        JsonAssert.Equal("""{"googleSearch":{"timeRangeFilter":{"startTime":"2026-01-01T00:00:00Z"}}}""", gemini["tools"]![1]);
        JsonAssert.Equal("""{"type":"object","properties":{"answer":{"type":"string"}}}""", gemini["generationConfig"]!["responseSchema"]);
        JsonAssert.Equal("""["TEXT"]""", gemini["generationConfig"]!["responseModalities"]);
        JsonAssert.Equal("""[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]""", gemini["safetySettings"]);
        Assert.Equal("cachedContents/abc", gemini["cachedContent"]!.GetValue<string>());
        Assert.False(gemini.ContainsKey("someFutureField"));
        var contents = gemini["contents"]!.AsArray();
        JsonAssert.Equal("""{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}""", contents[0]!["parts"]![1]);
        JsonAssert.Equal("""{"functionCall":{"name":"lookup","args":{"city":"Paris"},"id":"call_lookup_1"},"thoughtSignature":"sig-1"}""", contents[1]!["parts"]![0]);
        Assert.Equal("lookup", contents[2]!["parts"]![0]!["functionResponse"]!["name"]!.GetValue<string>());

        var chat = Codecs.For(Dialect.OpenAIChat).EncodeRequest(request, "gpt-5");
        var tool = chat["tools"]![0]!["function"]!;
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Rome"]}},"required":["city"]}""", tool["parameters"]);
        JsonAssert.Equal("""{"type":"object","properties":{"answer":{"type":"string"}}}""", chat["response_format"]!["json_schema"]!["schema"]);
        var image = chat["messages"]![0]!["content"]![1]!;
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", image["image_url"]!["url"]!.GetValue<string>());

        // The canonical request's kept JSON reads on its own after the document is gone.
        JsonAssert.Equal("""[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]""", request.Extensions["gemini.safetySettings"]);
        JsonAssert.Equal("""{"timeRangeFilter":{"startTime":"2026-01-01T00:00:00Z"}}""", request.Tools[1].Config);
    }
}
