using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Anthropic;
using PluginProxy.Formats.Json;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.Anthropic;

public sealed class RoundTripTests
{
    private static readonly AnthropicCodec Codec = AnthropicCodec.Instance;

    private static JsonObject RoundTrip(JsonObject body) =>
        Codec.EncodeRequest(Codec.DecodeRequest(body), body["model"]!.GetValue<string>());

    [Fact]
    public void ToolLoopBody_RoundTripsModuloDocumentedNormalisation()
    {
        var input = JsonNode.Parse(RequestDecodeTests.ToolLoopBody)!.AsObject();

        var output = RoundTrip(input);

        // Normalisation: a lone plain text block is sent as a string; google_search becomes Anthropic web search,
        // already present here; top_k cannot be combined with thinking.
        var expected = input.DeepClone().AsObject();
        expected["messages"]![2]!["content"]![1]!["content"] = "error: timeout";
        expected["tools"]!.AsArray().RemoveAt(2);
        expected.Remove("top_k");
        JsonAssert.Equal(expected, output);
    }

    [Fact]
    public void ClaudeCodeBody_DecodesAndReEncodesExactly()
    {
        var input = ClaudeCodeBody();
        Assert.True(JsonText.SerializeToUtf8(input).Length > 80_000, "the sample should be as large as a real Claude Code request");

        var request = Codec.DecodeRequest(input);
        var output = Codec.EncodeRequest(request, "claude-opus-4-8");

        Assert.Equal(25, request.Tools.Count);
        Assert.Equal(3, request.System.Count);
        Assert.Equal(("high", -1), (request.Reasoning!.Effort, request.Reasoning.BudgetTokens));
        Assert.Equal(64000, request.Sampling.MaxOutputTokens);
        Assert.Equal("""{"device_id":"5f1c","account_uuid":"","session_id":"9a7e"}""", request.User);
        Assert.NotNull(request.Extensions["anthropic.context_management"]);
        JsonAssert.Equal(input, output);
    }

    [Fact]
    public void ThinkingExtrasAndOutputConfigRemainder_RoundTrip()
    {
        var input = JsonNode.Parse("""
            {"model":"m","max_tokens":8000,"messages":[{"role":"user","content":"hi"}],
             "thinking":{"type":"enabled","budget_tokens":3000,"display":"summarized"},
             "output_config":{"effort":"medium"},
             "metadata":{"user_id":"u","tenant":"t"},
             "container":"cntr_1","mcp_servers":[{"type":"url","url":"https://mcp","name":"x"}]}
            """)!.AsObject();

        JsonAssert.Equal(input, RoundTrip(input));
    }

    [Fact]
    public void MaxEffortAndAdaptiveThinking_RoundTrip()
    {
        var input = JsonNode.Parse("""
            {"model":"m","max_tokens":8000,"messages":[{"role":"user","content":"hi"}],
             "thinking":{"type":"adaptive"},"output_config":{"effort":"max"}}
            """)!.AsObject();

        Assert.Equal("xhigh", Codec.DecodeRequest(input).Reasoning!.Effort);
        JsonAssert.Equal(input, RoundTrip(input));
    }

    [Fact]
    public void NativeBlocksDocumentsAndCacheControl_RoundTrip()
    {
        var input = JsonNode.Parse("""
            {"model":"m","max_tokens":100,"messages":[
              {"role":"user","content":[
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"Spec","citations":{"enabled":true},"cache_control":{"type":"ephemeral"}},
                {"type":"image","source":{"type":"file","file_id":"file_1"}},
                {"type":"text","text":"Summarise","cache_control":{"type":"ephemeral","ttl":"1h"}}
              ]},
              {"role":"assistant","content":[
                {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}},
                {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://a","title":"A","encrypted_content":"xyz"}]},
                {"type":"text","text":"Done.","citations":[{"type":"web_search_result_location","url":"https://a","title":"A","encrypted_index":"i","cited_text":"c"}]}
              ]},
              {"role":"user","content":"thanks"}
            ],
            "tools":[{"type":"web_search_20250305","name":"web_search"},{"type":"custom","name":"f","input_schema":{"type":"object"},"strict":true}]}
            """)!.AsObject();

        JsonAssert.Equal(input, RoundTrip(input));
    }

    /// <summary>The shape Claude Code 2.x sends: 25 tools, a 3-block system, adaptive thinking, context management, ~85 KB.</summary>
    internal static JsonObject ClaudeCodeBody()
    {
        var tools = new JsonArray();
        for (var i = 0; i < 25; i++)
        {
            var description = new StringBuilder();
            for (var line = 0; line < 40; line++)
                description.Append($"Tool {i} usage note {line}: call it with care, respect the sandbox, quote paths with \"double quotes\" & <angle> brackets.\n");
            var tool = new JsonObject
            {
                ["name"] = i == 0 ? "Bash" : $"mcp__server__tool_{i}",
                ["description"] = description.ToString(),
                ["input_schema"] = JsonNode.Parse("""
                    {"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
                     "properties":{"command":{"type":"string","description":"The command"},"timeout":{"type":"number","maximum":600000},
                                   "mode":{"type":"string","enum":["a","b","c"]},"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"}}}}},
                     "required":["command"]}
                    """),
            };
            if (i == 24) tool["cache_control"] = new JsonObject { ["type"] = "ephemeral" };
            tools.Add(tool);
        }
        var body = JsonNode.Parse($$$"""
            {
              "model": "claude-opus-4-8",
              "messages": [
                {"role":"user","content":[
                  {"type":"text","text":"<system-reminder>\nAs you answer the user's questions, you can use the following context...\n</system-reminder>"},
                  {"type":"text","text":"List the files, then read README.md","cache_control":{"type":"ephemeral"}}
                ]},
                {"role":"assistant","content":[
                  {"type":"thinking","thinking":"I should run ls first.","signature":"{{{RequestDecodeTests.Signature}}}"},
                  {"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"ls -la","timeout":1000}}
                ]},
                {"role":"user","content":[
                  {"type":"tool_result","tool_use_id":"toolu_01","content":"README.md\nsrc\n","is_error":false,"cache_control":{"type":"ephemeral"}}
                ]}
              ],
              "system": [
                {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=sdk-cli"},
                {"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}},
                {"type":"text","text":"You are an interactive CLI tool that helps users with software engineering tasks.","cache_control":{"type":"ephemeral"}}
              ],
              "tools": [],
              "metadata": {"user_id":"{\"device_id\":\"5f1c\",\"account_uuid\":\"\",\"session_id\":\"9a7e\"}"},
              "max_tokens": 64000,
              "thinking": {"type":"adaptive"},
              "context_management": {"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
              "output_config": {"effort":"high"},
              "stream": true
            }
            """)!.AsObject();
        body["tools"] = tools;
        // is_error:false is the default and is not re-emitted: the sample uses the form the encoder produces.
        body["messages"]![2]!["content"]![0]!.AsObject().Remove("is_error");
        return body;
    }
}
