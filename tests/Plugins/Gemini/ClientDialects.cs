using System.Text.Json.Nodes;

namespace PluginProxy.Tests.Plugins.Gemini;

public enum ClientKind
{
    OpenAIChat,
    Responses,
    Anthropic,
    /// <summary>A Gemini client with a thinking suffix on the model, which the host translates instead of passing through.</summary>
    GeminiTranslated,
}

/// <summary>Request bodies and paths of each client dialect for the same conversation, written as each client writes them.</summary>
internal static class ClientDialects
{
    public const string Image = "iVBORw0KGgoAAAANSUhEUg==";

    /// <summary>A schema with keywords Gemini refuses.</summary>
    public const string Schema = """{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","exclusiveMinimum":0}},"required":["city","missing"],"additionalProperties":false}""";

    public const string CleanSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1}},"required":["city"],"additionalProperties":false}""";

    public static string Path(ClientKind kind, bool stream) => kind switch
    {
        ClientKind.OpenAIChat => "/v1/chat/completions",
        ClientKind.Responses => "/v1/responses",
        ClientKind.Anthropic => "/v1/messages",
        _ => $"/v1beta/models/{GeminiProxy.Model}(8192):" + (stream ? "streamGenerateContent?alt=sse" : "generateContent"),
    };

    /// <summary>Turn one: a question with an image, a tool with a messy schema, thinking on.</summary>
    public static JsonObject FirstTurn(ClientKind kind, bool stream, JsonArray? extraTools = null) => kind switch
    {
        ClientKind.OpenAIChat => Obj($$$"""
            {"model":"{{{GeminiProxy.Model}}}","stream":{{{Bool(stream)}}},"reasoning_effort":"high",
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Weather in the picture's city?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{Image}}}"}}]}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{{{Schema}}}}}]}
            """, extraTools),
        ClientKind.Responses => Obj($$$"""
            {"model":"{{{GeminiProxy.Model}}}","stream":{{{Bool(stream)}}},"reasoning":{"effort":"high"},"instructions":"Be brief.",
             "input":[{"role":"user","content":[{"type":"input_text","text":"Weather in the picture's city?"},{"type":"input_image","image_url":"data:image/png;base64,{{{Image}}}"}]}],
             "tools":[{"type":"function","name":"get_weather","parameters":{{{Schema}}}}]}
            """, extraTools),
        ClientKind.Anthropic => Obj($$$"""
            {"model":"{{{GeminiProxy.Model}}}","stream":{{{Bool(stream)}}},"max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":100000},"system":"Be brief.",
             "messages":[{"role":"user","content":[{"type":"text","text":"Weather in the picture's city?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{Image}}}"}}]}],
             "tools":[{"name":"get_weather","input_schema":{{{Schema}}}}]}
            """, extraTools),
        _ => Obj($$$"""
            {"systemInstruction":{"parts":[{"text":"Be brief."}]},
             "contents":[{"role":"user","parts":[{"text":"Weather in the picture's city?"},{"inlineData":{"mimeType":"image/png","data":"{{{Image}}}"}}]}],
             "tools":[{"functionDeclarations":[{"name":"get_weather","parametersJsonSchema":{{{Schema}}}}]}]}
            """, extraTools),
    };

    /// <summary>Turn two: turn one, the model's call as the client got it, and the tool's result.</summary>
    public static JsonObject SecondTurn(ClientKind kind, bool stream, JsonObject? geminiCallPart = null)
    {
        var body = FirstTurn(kind, stream);
        switch (kind)
        {
            case ClientKind.OpenAIChat:
                body["messages"]!.AsArray().Add(Node("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_w1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}"""));
                body["messages"]!.AsArray().Add(Node("""{"role":"tool","tool_call_id":"call_w1","content":"sunny"}"""));
                break;
            case ClientKind.Responses:
                body["input"]!.AsArray().Add(Node("""{"type":"function_call","call_id":"call_w1","name":"get_weather","arguments":"{\"city\":\"Rome\"}"}"""));
                body["input"]!.AsArray().Add(Node("""{"type":"function_call_output","call_id":"call_w1","output":"sunny"}"""));
                break;
            case ClientKind.Anthropic:
                body["messages"]!.AsArray().Add(Node("""{"role":"assistant","content":[{"type":"tool_use","id":"toolu_w1","name":"get_weather","input":{"city":"Rome"}}]}"""));
                body["messages"]!.AsArray().Add(Node("""{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_w1","content":"sunny"}]}"""));
                break;
            default:
                body["contents"]!.AsArray().Add(new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(geminiCallPart!.DeepClone()) });
                body["contents"]!.AsArray().Add(Node("""{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"result":"sunny"}}}]}"""));
                break;
        }
        return body;
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static JsonObject Obj(string json, JsonArray? extraTools)
    {
        var body = JsonNode.Parse(json)!.AsObject();
        if (extraTools is not null)
            foreach (var tool in extraTools) body["tools"]!.AsArray().Add(tool!.DeepClone());
        return body;
    }

    private static JsonNode Node(string json) => JsonNode.Parse(json)!;
}
