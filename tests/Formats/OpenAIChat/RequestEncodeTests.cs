using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.OpenAIChat;
using PluginProxy.Tests.Support;
using static PluginProxy.Tests.Formats.OpenAIChat.ChatTestData;

namespace PluginProxy.Tests.Formats.OpenAIChat;

public class RequestEncodeTests
{
    [Fact]
    public void CanonicalRequestFromAnotherDialectEncodesToChatBody()
    {
        var request = new ChatRequest
        {
            Model = "claude-sonnet-4-5",
            System = [new TextPart("Be brief."), new TextPart("Cite sources.") { Extensions = new JsonObject { ["anthropic.cache_control"] = new JsonObject { ["type"] = "ephemeral" } } }],
            Messages =
            [
                new Message(Role.User, new TextPart("Look:"), new ImagePart { MediaType = "image/jpeg", Data = "/9j/4AAQ", Detail = "low" }),
                new Message(Role.Assistant,
                    new ReasoningPart { Text = "Need the tool.", Signature = "anthropic-sig", SignatureDialect = Dialect.Anthropic },
                    new TextPart("Checking."),
                    new ToolCallPart { Id = "toolu_01", Name = "lookup", Arguments = """{"q":"cat"}""" }),
                new Message(Role.User,
                    new ToolResultPart { ToolCallId = "toolu_01", Name = "lookup", Content = [new TextPart("a cat")] },
                    new TextPart("And now?")),
            ],
            Tools =
            [
                new ToolDefinition { Name = "lookup", Description = "Search", Parameters = JsonNode.Parse("""{"type":"object","properties":{"q":{"type":"string"}}}""") },
                new ToolDefinition { Kind = ToolKind.GoogleSearch, Name = "google_search", Config = new JsonObject() },
                new ToolDefinition { Kind = ToolKind.Native, Name = "web_search", NativeDialect = Dialect.Anthropic, Config = JsonNode.Parse("""{"type":"web_search_20250305"}""") },
            ],
            ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Function, Name = "lookup" },
            Reasoning = new ReasoningConfig { BudgetTokens = 8192 },
            Sampling = new SamplingOptions { Temperature = 0.5, MaxOutputTokens = 1024, StopSequences = ["\n\nHuman:"] },
            ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = JsonNode.Parse("""{"type":"object"}""") },
            Stream = true,
            User = "u-1",
            Extensions = new JsonObject { ["openai.logprobs"] = true, ["anthropic.metadata"] = new JsonObject { ["user_id"] = "x" } },
        };

        var body = OpenAIChatCodec.Instance.EncodeRequest(request, "gpt-4.1");

        JsonAssert.Equal("""
            {"model":"gpt-4.1",
             "messages":[
               {"role":"system","content":"Be brief.\n\nCite sources."},
               {"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ","detail":"low"}}]},
               {"role":"assistant","content":"Checking.","reasoning_content":"Need the tool.",
                "tool_calls":[{"id":"toolu_01","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"cat\"}"}}]},
               {"role":"tool","tool_call_id":"toolu_01","content":"a cat"},
               {"role":"user","content":"And now?"}],
             "tools":[
               {"type":"function","function":{"name":"lookup","description":"Search","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}},
               {"google_search":{}}],
             "tool_choice":{"type":"function","function":{"name":"lookup"}},
             "reasoning_effort":"medium",
             "temperature":0.5,"max_tokens":1024,"stop":["\n\nHuman:"],
             "response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}},
             "stream":true,"stream_options":{"include_usage":true},
             "user":"u-1","logprobs":true}
            """, body);
    }

    [Fact]
    public void OwnSignatureIsWrittenAsThinkingBlocksByteExact()
    {
        const string signature = "sig+/=\u00e9\u2603<&>";
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.User, new TextPart("q")),
                new Message(Role.Assistant, new ReasoningPart { Text = "think", Signature = signature, SignatureDialect = Dialect.OpenAIChat }, new TextPart("a")),
            ],
        };

        var body = OpenAIChatCodec.Instance.EncodeRequest(request, "m");

        var block = body["messages"]![1]!["thinking_blocks"]![0]!;
        Assert.Equal(signature, block["signature"]!.GetValue<string>());
        // Relaxed escaping keeps the signature's bytes on the wire.
        Assert.Contains("\"signature\":\"sig+/=\u00e9\u2603<&>\"", JsonText.Serialize(body));
    }

    [Fact]
    public void RealisticRequestRoundTripsUnchanged()
    {
        const string json = """
            {"model":"gpt-4.1",
             "messages":[
               {"role":"system","content":"You are a weather bot."},
               {"role":"developer","content":[{"type":"text","text":"Use metric units."},{"type":"text","text":"Be short.","cache_control":{"type":"ephemeral"}}]},
               {"role":"user","name":"ana","content":[
                 {"type":"text","text":"Here is a photo and a PDF."},
                 {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRiQAAABXRUJQ","detail":"auto"}},
                 {"type":"image_url","image_url":{"url":"https://example.com/sky.png"}},
                 {"type":"file","file":{"filename":"forecast.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQ="}},
                 {"type":"input_audio","input_audio":{"data":"SUQzBAAAAAAA","format":"mp3"}}]},
               {"role":"assistant","content":null,"reasoning_content":"Two cities, two calls.",
                "thinking_blocks":[{"type":"thinking","thinking":"Two cities, two calls.","signature":"c2lnbmF0dXJl+/=="}],
                "tool_calls":[
                  {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                  {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"},
               {"role":"tool","tool_call_id":"call_2","content":"24C"},
               {"role":"assistant","content":"Paris 18C, Rome 24C."},
               {"role":"user","content":"And tomorrow?"}],
             "tools":[
               {"type":"function","function":{"name":"get_weather","description":"Weather by city","strict":true,
                 "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}},
               {"google_search":{}},
               {"url_context":{}},
               {"type":"custom","custom":{"name":"sql","format":{"type":"text"}}}],
             "tool_choice":"auto","parallel_tool_calls":true,"reasoning_effort":"low",
             "temperature":0.7,"top_p":0.95,"top_k":32,"max_completion_tokens":4096,"stop":["END"],"seed":1234,
             "presence_penalty":0.1,"frequency_penalty":0.2,"n":1,
             "response_format":{"type":"json_schema","json_schema":{"name":"forecast","strict":true,"schema":{"type":"object"}}},
             "stream":true,"stream_options":{"include_usage":true},"user":"user-42",
             "logprobs":true,"top_logprobs":2,"metadata":{"trace":"abc"},"store":true,"service_tier":"auto"}
            """;
        var original = Parse(json);

        var request = OpenAIChatCodec.Instance.DecodeRequest(original);
        var encoded = OpenAIChatCodec.Instance.EncodeRequest(request, "gpt-4.1");

        JsonAssert.Equal(original, encoded);
    }

    [Fact]
    public void NonStreamingRequestRoundTripsWithoutStreamFields()
    {
        const string json = """
            {"model":"deepseek-chat","messages":[{"role":"system","content":"S"},{"role":"system","content":"T"},{"role":"user","content":"Hi"},
              {"role":"assistant","content":"Hello","reasoning_content":"greet"},{"role":"user","content":""}],
             "max_tokens":512,"tool_choice":"required","response_format":{"type":"json_object"}}
            """;
        var request = OpenAIChatCodec.Instance.DecodeRequest(Parse(json));

        JsonAssert.Equal(json, OpenAIChatCodec.Instance.EncodeRequest(request, "deepseek-chat"));
    }

    [Fact]
    public void ToolOnlyTurnsAndForeignPartsNormalise()
    {
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.Assistant, new ToolCallPart { Id = "c1", Name = "f", Arguments = "{}" }),
                new Message(Role.Tool, new ToolResultPart { ToolCallId = "c1", Content = [] }),
                new Message(Role.Assistant, new NativePart(Dialect.Gemini, JsonNode.Parse("""{"executableCode":{"code":"1"}}""")!), new TextPart("done")),
            ],
            Reasoning = new ReasoningConfig { Effort = "xhigh", BudgetTokens = 1 },
        };

        JsonAssert.Equal("""
            {"model":"m","messages":[
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":""},
              {"role":"assistant","content":"done"}],
             "reasoning_effort":"xhigh"}
            """, OpenAIChatCodec.Instance.EncodeRequest(request, "m"));
    }
}
