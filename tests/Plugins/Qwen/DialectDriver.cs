using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Tests.Host.Proxying;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Qwen;

/// <summary>The four client dialects as raw HTTP: a weather question with one tool, the tool's answer, and reading the replies.</summary>
public enum ClientDialect
{
    Chat,
    Responses,
    Anthropic,
    Gemini,
}

internal static class DialectDriver
{
    public const string ToolName = "get_weather";
    public const string CallId = "call_w1";

    private static readonly JsonObject Schema = new()
    {
        ["type"] = "object", ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } }, ["required"] = new JsonArray("city"),
    };

    public static string Path(ClientDialect dialect, string model, bool stream) => dialect switch
    {
        ClientDialect.Chat => "/v1/chat/completions",
        ClientDialect.Responses => "/v1/responses",
        ClientDialect.Anthropic => "/v1/messages",
        _ => stream ? $"/v1beta/models/{model}:streamGenerateContent?alt=sse" : $"/v1beta/models/{model}:generateContent",
    };

    /// <summary>The first turn: a question, the tool declared (unless <paramref name="tools"/> is false), thinking asked for when <paramref name="think"/>.</summary>
    public static JsonObject Ask(ClientDialect dialect, string model, bool stream, bool think = false, bool tools = true) =>
        Body(dialect, model, stream, think, tools, withResult: false);

    /// <summary>The second turn: the model's tool call and its result appended.</summary>
    public static JsonObject Answer(ClientDialect dialect, string model, bool stream) => Body(dialect, model, stream, false, true, withResult: true);

    private static JsonObject Body(ClientDialect dialect, string model, bool stream, bool think, bool tools, bool withResult)
    {
        const string question = "Weather in Bern?";
        const string args = """{"city":"Bern"}""";
        const string result = """{"temp_c":12}""";
        switch (dialect)
        {
            case ClientDialect.Chat:
            {
                var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question });
                if (withResult)
                {
                    messages.Add(new JsonObject
                    {
                        ["role"] = "assistant", ["content"] = null,
                        ["tool_calls"] = new JsonArray(new JsonObject
                        {
                            ["id"] = CallId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = ToolName, ["arguments"] = args },
                        }),
                    });
                    messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = CallId, ["content"] = result });
                }
                var body = new JsonObject { ["model"] = model, ["messages"] = messages, ["stream"] = stream };
                if (tools)
                    body["tools"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = ToolName, ["description"] = "Current weather", ["parameters"] = Schema.DeepClone() },
                    });
                if (think) body["reasoning_effort"] = "high";
                return body;
            }
            case ClientDialect.Responses:
            {
                var input = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question });
                if (withResult)
                {
                    input.Add(new JsonObject { ["type"] = "function_call", ["call_id"] = CallId, ["name"] = ToolName, ["arguments"] = args });
                    input.Add(new JsonObject { ["type"] = "function_call_output", ["call_id"] = CallId, ["output"] = result });
                }
                var body = new JsonObject { ["model"] = model, ["input"] = input, ["stream"] = stream };
                if (tools)
                    body["tools"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "function", ["name"] = ToolName, ["description"] = "Current weather", ["parameters"] = Schema.DeepClone(),
                    });
                if (think) body["reasoning"] = new JsonObject { ["effort"] = "high" };
                return body;
            }
            case ClientDialect.Anthropic:
            {
                var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question });
                if (withResult)
                {
                    messages.Add(new JsonObject
                    {
                        ["role"] = "assistant",
                        ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = CallId, ["name"] = ToolName, ["input"] = JsonNode.Parse(args) }),
                    });
                    messages.Add(new JsonObject
                    {
                        ["role"] = "user",
                        ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = CallId, ["content"] = result }),
                    });
                }
                var body = new JsonObject { ["model"] = model, ["max_tokens"] = 4096, ["messages"] = messages, ["stream"] = stream };
                if (tools)
                    body["tools"] = new JsonArray(new JsonObject { ["name"] = ToolName, ["description"] = "Current weather", ["input_schema"] = Schema.DeepClone() });
                if (think) body["thinking"] = new JsonObject { ["type"] = "enabled", ["budget_tokens"] = 2048 };
                return body;
            }
            default:
            {
                var contents = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = question }) });
                if (withResult)
                {
                    contents.Add(new JsonObject
                    {
                        ["role"] = "model",
                        ["parts"] = new JsonArray(new JsonObject { ["functionCall"] = new JsonObject { ["name"] = ToolName, ["args"] = JsonNode.Parse(args) } }),
                    });
                    contents.Add(new JsonObject
                    {
                        ["role"] = "user",
                        ["parts"] = new JsonArray(new JsonObject
                        {
                            ["functionResponse"] = new JsonObject { ["name"] = ToolName, ["response"] = JsonNode.Parse(result) },
                        }),
                    });
                }
                var body = new JsonObject { ["contents"] = contents };
                if (tools)
                    body["tools"] = new JsonArray(new JsonObject
                    {
                        ["functionDeclarations"] = new JsonArray(new JsonObject { ["name"] = ToolName, ["description"] = "Current weather", ["parameters"] = Schema.DeepClone() }),
                    });
                if (think)
                    body["generationConfig"] = new JsonObject { ["thinkingConfig"] = new JsonObject { ["thinkingBudget"] = 2048, ["includeThoughts"] = true } };
                return body;
            }
        }
    }

    /// <summary>What the client was told: its text, reasoning and the names of tool calls, from a JSON answer or an SSE stream.</summary>
    public static (string Text, string Reasoning, List<string> ToolCalls) Read(ClientDialect dialect, bool stream, string body)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        var tools = new List<string>();
        var objects = stream ? ClientWire.Sse(body).Where(e => e.Data is not null).Select(e => e.Data!).ToList() : [ClientWire.Object(body)];
        foreach (var o in objects)
        {
            switch (dialect)
            {
                case ClientDialect.Chat:
                    foreach (var choice in o["choices"]?.AsArray() ?? [])
                    {
                        var m = choice!["delta"] ?? choice["message"];
                        text.Append((string?)m?["content"]);
                        reasoning.Append((string?)m?["reasoning_content"]);
                        foreach (var call in m?["tool_calls"]?.AsArray() ?? [])
                            if ((string?)call!["function"]?["name"] is { } name) tools.Add(name);
                    }
                    break;
                case ClientDialect.Responses:
                    if (stream)
                    {
                        var type = (string?)o["type"];
                        if (type == "response.output_text.delta") text.Append((string?)o["delta"]);
                        if (type is "response.reasoning_summary_text.delta" or "response.reasoning_text.delta") reasoning.Append((string?)o["delta"]);
                        if (type == "response.output_item.done" && (string?)o["item"]?["type"] == "function_call") tools.Add((string)o["item"]!["name"]!);
                    }
                    else
                    {
                        foreach (var item in o["output"]?.AsArray() ?? [])
                        {
                            switch ((string?)item!["type"])
                            {
                                case "message":
                                    foreach (var c in item["content"]!.AsArray()) text.Append((string?)c!["text"]);
                                    break;
                                case "reasoning":
                                    foreach (var s in item["summary"]?.AsArray() ?? []) reasoning.Append((string?)s!["text"]);
                                    foreach (var s in item["content"]?.AsArray() ?? []) reasoning.Append((string?)s!["text"]);
                                    break;
                                case "function_call":
                                    tools.Add((string)item["name"]!);
                                    break;
                            }
                        }
                    }
                    break;
                case ClientDialect.Anthropic:
                    if (stream)
                    {
                        if ((string?)o["type"] == "content_block_delta")
                        {
                            text.Append((string?)o["delta"]?["text"]);
                            reasoning.Append((string?)o["delta"]?["thinking"]);
                        }
                        if ((string?)o["type"] == "content_block_start" && (string?)o["content_block"]?["type"] == "tool_use")
                            tools.Add((string)o["content_block"]!["name"]!);
                    }
                    else
                    {
                        foreach (var block in o["content"]?.AsArray() ?? [])
                        {
                            text.Append((string?)block!["text"]);
                            reasoning.Append((string?)block["thinking"]);
                            if ((string?)block["type"] == "tool_use") tools.Add((string)block["name"]!);
                        }
                    }
                    break;
                default:
                    foreach (var candidate in o["candidates"]?.AsArray() ?? [])
                    {
                        foreach (var part in candidate!["content"]?["parts"]?.AsArray() ?? [])
                        {
                            if ((bool?)part!["thought"] == true) reasoning.Append((string?)part["text"]);
                            else text.Append((string?)part["text"]);
                            if ((string?)part["functionCall"]?["name"] is { } name) tools.Add(name);
                        }
                    }
                    break;
            }
        }
        return (text.ToString(), reasoning.ToString(), tools);
    }

    /// <summary>Sends a turn and checks the status, returning the whole answer text.</summary>
    public static async Task<string> SendAsync(TestServer server, ClientDialect dialect, string model, bool stream, JsonObject body)
    {
        using var response = await server.PostJsonAsync(Path(dialect, model, stream), body.ToJsonString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{dialect} answered {(int)response.StatusCode}: {text}");
        return text;
    }
}
