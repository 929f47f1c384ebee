using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>
/// A request shaped like Claude Code's (2.1.19x with the mid-conversation-system, per-turn-control and
/// mid-conversation-tool-changes betas) decoded by the Anthropic codec and encoded for each upstream dialect: every
/// system message arrives at its own place in the conversation.
/// </summary>
public sealed class MidConversationSystemTests
{
    internal const string ClaudeCodeBody = """
    {
      "model": "claude-opus-4-8",
      "max_tokens": 32000,
      "stream": true,
      "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;"},
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
      ],
      "tools": [
        {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
        {"name": "WebFetch", "description": "Fetch a URL", "input_schema": {"type": "object", "properties": {"url": {"type": "string"}}}, "defer_loading": true}
      ],
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "List the files."}]},
        {"role": "system", "content": [
          {"type": "text", "text": "Available agents: Explore."},
          {"type": "text", "text": "Available skills: pdf.", "cache_control": {"type": "ephemeral"}}
        ]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt"}]},
        {"role": "system", "content": "Deferred tools exist: WebFetch.", "output_config": {"effort": "high"}},
        {"role": "assistant", "content": [{"type": "text", "text": "One file: a.txt."}]},
        {"role": "system", "content": "Plan mode is off."},
        {"role": "user", "content": "Now fetch example.com."},
        {"role": "system", "content": [
          {"type": "text", "text": "Tools changed."},
          {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "WebFetch"}},
          {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "Bash"}},
          {"type": "tool_addition", "tool": {"type": "tool_definition", "definition": {"name": "Grep", "description": "Search files", "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}}}}}
        ]}
      ]
    }
    """;

    private const string ToolChangeNote =
        "Tools changed.\n\nThe tool \"WebFetch\" is now available.\n\nThe tool \"Bash\" is no longer available; do not call it.\n\nThe tool \"Grep\" is now available.";

    private static ChatRequest Decode() => Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse(ClaudeCodeBody));

    private static JsonObject EncodeFor(Dialect upstream) => Codecs.For(upstream).EncodeRequest(Decode(), "upstream-model");

    [Fact]
    public void Decodes_system_messages_in_place_with_output_config_and_tool_changes()
    {
        var request = Decode();

        Assert.Equal(
            [Role.User, Role.System, Role.Assistant, Role.Tool, Role.System, Role.Assistant, Role.System, Role.User, Role.System],
            request.Messages.Select(m => m.Role));
        Assert.Equal(2, request.System.Count);
        JsonAssert.Equal("""{"effort":"high"}""", request.Messages[4].Extensions!["anthropic.output_config"]);
        Assert.Null(request.Messages[1].Extensions);
        var changes = request.Messages[8].Parts.OfType<ToolChangePart>().ToList();
        Assert.Equal([false, true, false], changes.Select(c => c.Removed));
        Assert.Equal("WebFetch", changes[0].Name);
        Assert.Equal("Bash", changes[1].Name);
        Assert.Equal("Grep", changes[2].Definition!.Name);
        Assert.Equal("""{"type":"object","properties":{"pattern":{"type":"string"}}}""", changes[2].Definition!.Parameters!.ToJsonString());
    }

    [Fact]
    public void OpenAI_chat_gets_system_messages_where_they_stood()
    {
        var body = EncodeFor(Dialect.OpenAIChat);

        JsonAssert.Equal("""
        [
          {"role":"system","content":"x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;\n\nYou are Claude Code."},
          {"role":"user","content":"List the files."},
          {"role":"system","content":"Available agents: Explore.\n\nAvailable skills: pdf."},
          {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_01","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\"}"}}]},
          {"role":"tool","tool_call_id":"toolu_01","content":"a.txt"},
          {"role":"system","content":"Deferred tools exist: WebFetch."},
          {"role":"assistant","content":"One file: a.txt."},
          {"role":"system","content":"Plan mode is off."},
          {"role":"user","content":"Now fetch example.com."},
          {"role":"system","content":"Tools changed.\n\nThe tool \"WebFetch\" is now available.\n\nThe tool \"Bash\" is no longer available; do not call it.\n\nThe tool \"Grep\" is now available."}
        ]
        """, body["messages"]);
        // Removed tools stay declared; the tool added by value is declared too.
        Assert.Equal(["Bash", "WebFetch", "Grep"], body["tools"]!.AsArray().Select(t => (string?)t!["function"]!["name"]));
    }

    [Fact]
    public void Responses_gets_developer_items_where_the_system_messages_stood()
    {
        var body = EncodeFor(Dialect.OpenAIResponses);

        Assert.Equal("x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;\n\nYou are Claude Code.", (string?)body["instructions"]);
        JsonAssert.Equal($$"""
        [
          {"type":"message","role":"user","content":[{"type":"input_text","text":"List the files."}]},
          {"type":"message","role":"developer","content":[{"type":"input_text","text":"Available agents: Explore.\n\nAvailable skills: pdf."}]},
          {"type":"function_call","call_id":"toolu_01","name":"Bash","arguments":"{\"command\":\"ls\"}"},
          {"type":"function_call_output","call_id":"toolu_01","output":"a.txt"},
          {"type":"message","role":"developer","content":[{"type":"input_text","text":"Deferred tools exist: WebFetch."}]},
          {"type":"message","role":"assistant","content":[{"type":"output_text","text":"One file: a.txt."}]},
          {"type":"message","role":"developer","content":[{"type":"input_text","text":"Plan mode is off."}]},
          {"type":"message","role":"user","content":[{"type":"input_text","text":"Now fetch example.com."}]},
          {"type":"message","role":"developer","content":[{"type":"input_text","text":{{JsonValue.Create(ToolChangeNote).ToJsonString()}}}]}
        ]
        """, body["input"]);
        Assert.Equal(["Bash", "WebFetch", "Grep"], body["tools"]!.AsArray().Select(t => (string?)t!["name"]));
    }

    [Fact]
    public void Gemini_gets_system_reminders_inside_user_turns_keeping_the_alternation()
    {
        var body = EncodeFor(Dialect.Gemini);

        var contents = body["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user", "model", "user"], contents.Select(c => (string?)c!["role"]));
        JsonAssert.Equal("""
        [{"text":"List the files."},{"text":"<system-reminder>\nAvailable agents: Explore.\n\nAvailable skills: pdf.\n</system-reminder>"}]
        """, contents[0]!["parts"]);
        var toolTurn = contents[2]!["parts"]!.AsArray();
        Assert.NotNull(toolTurn[0]!["functionResponse"]);
        Assert.Equal("<system-reminder>\nDeferred tools exist: WebFetch.\n</system-reminder>", (string?)toolTurn[1]!["text"]);
        // The note after the assistant turn opens a user turn that the next user message joins.
        Assert.Equal(
            [
                "<system-reminder>\nPlan mode is off.\n</system-reminder>",
                "Now fetch example.com.",
                SystemNotes.Reminder(ToolChangeNote),
            ],
            contents[4]!["parts"]!.AsArray().Select(p => (string?)p!["text"]));
        Assert.Equal(2, body["systemInstruction"]!["parts"]!.AsArray().Count);
        Assert.Equal(
            ["Bash", "WebFetch", "Grep"],
            body["tools"]![0]!["functionDeclarations"]!.AsArray().Select(f => (string?)f!["name"]));
    }

    [Fact]
    public void Anthropic_gets_the_system_messages_back_as_mid_conversation_system_messages()
    {
        var body = EncodeFor(Dialect.Anthropic);

        JsonAssert.Equal("""
        [
          {"role":"user","content":"List the files."},
          {"role":"system","content":[
            {"type":"text","text":"Available agents: Explore."},
            {"type":"text","text":"Available skills: pdf.","cache_control":{"type":"ephemeral"}}
          ]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"ls"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"a.txt"}]},
          {"role":"system","content":"Deferred tools exist: WebFetch.","output_config":{"effort":"high"}},
          {"role":"assistant","content":"One file: a.txt."},
          {"role":"system","content":"Plan mode is off."},
          {"role":"user","content":"Now fetch example.com."},
          {"role":"system","content":[
            {"type":"text","text":"Tools changed."},
            {"type":"tool_addition","tool":{"type":"tool_reference","name":"WebFetch"}},
            {"type":"tool_removal","tool":{"type":"tool_reference","name":"Bash"}},
            {"type":"tool_addition","tool":{"type":"tool_definition","definition":{"name":"Grep","description":"Search files","input_schema":{"type":"object","properties":{"pattern":{"type":"string"}}}}}}
          ]}
        ]
        """, body["messages"]);
        JsonAssert.Equal("""
        [
          {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;"},
          {"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral","ttl":"1h"}}
        ]
        """, body["system"]);
        // Tool changes are Anthropic's own: the declared tools stay as sent (the deferred one still deferred).
        Assert.Equal(["Bash", "WebFetch"], body["tools"]!.AsArray().Select(t => (string?)t!["name"]));
        Assert.True((bool?)body["tools"]![1]!["defer_loading"]);
    }

    [Fact]
    public void A_tool_change_built_from_canonical_fields_gets_the_Anthropic_reference_shapes()
    {
        var request = new ChatRequest
        {
            Messages =
            [
                new Message(Role.User, new TextPart("hi")),
                new Message(Role.System,
                    new ToolChangePart { Name = "search", ServerName = "docs" },
                    new ToolChangePart { ServerName = "github", Removed = true },
                    new ToolChangePart { Definition = new ToolDefinition { Name = "Echo" } }),
            ],
        };

        var body = Codecs.For(Dialect.Anthropic).EncodeRequest(request, "m");

        JsonAssert.Equal("""
        [
          {"type":"tool_addition","tool":{"type":"mcp_tool_reference","name":"search","server_name":"docs"}},
          {"type":"tool_removal","tool":{"type":"mcp_toolset_reference","server_name":"github"}},
          {"type":"tool_addition","tool":{"type":"tool_definition","definition":{"name":"Echo","input_schema":{"type":"object","properties":{}}}}}
        ]
        """, body["messages"]![1]!["content"]);
        Assert.Equal(
            "The tool \"search\" of MCP server \"docs\" is now available.\n\nThe tools of MCP server \"github\" are no longer available; do not call them.\n\nThe tool \"Echo\" is now available.",
            SystemNotes.Text(request.Messages[1]));
    }

    [Fact]
    public void A_leading_system_message_joins_the_top_level_system_and_keeps_its_directive()
    {
        var body = Codecs.For(Dialect.Anthropic).EncodeRequest(Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse("""
        {"model":"m","system":"Base.","messages":[
          {"role":"system","content":"Early note.","output_config":{"effort":"low"}},
          {"role":"user","content":"hi"}
        ]}
        """)), "m");

        JsonAssert.Equal("""[{"type":"text","text":"Base."},{"type":"text","text":"Early note."}]""", body["system"]);
        JsonAssert.Equal("""
        [{"role":"system","content":[],"output_config":{"effort":"low"}},{"role":"user","content":"hi"}]
        """, body["messages"]);
    }

    [Fact]
    public void Consecutive_system_messages_merge_and_a_directive_only_message_survives()
    {
        var body = Codecs.For(Dialect.Anthropic).EncodeRequest(Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse("""
        {"model":"m","messages":[
          {"role":"user","content":"hi"},
          {"role":"system","content":"One."},
          {"role":"system","content":[],"output_config":{"effort":"max"}}
        ]}
        """)), "m");

        JsonAssert.Equal("""
        [{"role":"user","content":"hi"},{"role":"system","content":"One.","output_config":{"effort":"max"}}]
        """, body["messages"]);
    }

    [Fact]
    public void A_trailing_system_message_does_not_cost_the_request_its_thinking()
    {
        var body = Codecs.For(Dialect.Anthropic).EncodeRequest(Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse("""
        {"model":"m","max_tokens":8000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[
          {"role":"user","content":"hi"},
          {"role":"system","content":"Be brief."}
        ]}
        """)), "m");

        JsonAssert.Equal("""{"type":"enabled","budget_tokens":2000}""", body["thinking"]);
    }

    [Fact]
    public void A_directive_only_system_message_has_nothing_for_other_dialects()
    {
        var request = Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse("""
        {"model":"m","messages":[{"role":"user","content":"hi"},{"role":"system","content":[],"output_config":{"effort":"high"}}]}
        """));

        Assert.Equal(["user"], Codecs.For(Dialect.OpenAIChat).EncodeRequest(request, "m")["messages"]!.AsArray().Select(m => (string?)m!["role"]));
        Assert.Single(Codecs.For(Dialect.OpenAIResponses).EncodeRequest(request, "m")["input"]!.AsArray());
        Assert.Single(Codecs.For(Dialect.Gemini).EncodeRequest(request, "m")["contents"]!.AsArray());
    }

    [Fact]
    public void The_unsupported_role_wording_matches_Anthropic()
    {
        Assert.Equal("messages.3.role: role 'system' is not supported on this model", SystemNotes.UnsupportedRoleError(3));
        var error = Codecs.For(Dialect.Anthropic).EncodeError(400, SystemNotes.UnsupportedRoleError(1));
        Assert.Equal("invalid_request_error", (string?)error["error"]!["type"]);
        Assert.Contains(SystemNotes.UnsupportedRoleMessage, (string?)error["error"]!["message"]);
    }
}
