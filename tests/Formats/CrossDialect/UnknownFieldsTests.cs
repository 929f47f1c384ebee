using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;

namespace PluginProxy.Tests.Formats.CrossDialect;

/// <summary>
/// Fields, content kinds and roles a decoder does not know never cost the client a 400: they are dropped when the
/// request is translated to another dialect, and what the decoder does know still arrives. Every unknown item below
/// carries the marker <c>zzz</c> so the encoded bodies can be searched for leftovers.
/// </summary>
public sealed class UnknownFieldsTests
{
    private const string Marker = "zzz";

    public static TheoryData<Dialect, string> Bodies() => new()
    {
        {
            Dialect.Anthropic, """
            {"model":"m","max_tokens":100,"future_field":{"zzz":1},
             "system":[{"type":"text","text":"Be kind."},{"type":"future_system_block","zzz":true}],
             "thinking":{"type":"future_mode_zzz"},
             "tool_choice":{"type":"future_choice_zzz"},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"hello"},{"type":"future_block","data":"zzz"}]},
               {"role":"narrator","content":"zzz-role"},
               {"role":"assistant","content":[{"type":"text","text":"hi there"},{"type":"future_block","data":"zzz"}],"future_message_field":"zzz"}
             ]}
            """
        },
        {
            Dialect.OpenAIChat, """
            {"model":"m","future_field":{"zzz":1},"tool_choice":"future_zzz","response_format":{"type":"future_zzz"},
             "messages":[
               {"role":"system","content":"Be kind."},
               {"role":"user","content":[{"type":"text","text":"hello"},{"type":"future_part","future_part":{"data":"zzz"}}],"future_message_field":"zzz"},
               {"role":"narrator","content":"zzz-role"},
               {"role":"assistant","content":"hi there"}
             ]}
            """
        },
        {
            Dialect.OpenAIResponses, """
            {"model":"m","future_field":{"zzz":1},"instructions":"Be kind.","tool_choice":"future_zzz",
             "text":{"format":{"type":"future_zzz"}},
             "input":[
               {"type":"message","role":"user","content":[{"type":"input_text","text":"hello"},{"type":"input_future","data":"zzz"}]},
               {"type":"message","role":"narrator","content":"zzz-role"},
               {"type":"future_item","data":"zzz"},
               {"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi there"}]}
             ]}
            """
        },
        {
            Dialect.Gemini, """
            {"futureField":{"zzz":1},"systemInstruction":{"parts":[{"text":"Be kind."}]},
             "toolConfig":{"functionCallingConfig":{"mode":"FUTURE_ZZZ"}},
             "contents":[
               {"role":"user","parts":[{"text":"hello"},{"futurePart":{"data":"zzz"}}]},
               {"role":"narrator","parts":[{"text":"zzz-role"}]},
               {"role":"model","parts":[{"text":"hi there"}]}
             ]}
            """
        },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Unknown_fields_blocks_and_roles_are_dropped_when_translating(Dialect client, string body)
    {
        var request = Codecs.For(client).DecodeRequest(Wire.Parse(body));

        Assert.Equal([Role.User, Role.Assistant], request.Messages.Select(m => m.Role));
        foreach (var upstream in Codecs.All.Where(c => c.Dialect != client))
        {
            var encoded = JsonText.Serialize(upstream.EncodeRequest(request, "m"));
            Assert.DoesNotContain(Marker, encoded, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("future", encoded, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("hello", encoded);
            Assert.Contains("hi there", encoded);
            Assert.Contains("Be kind.", encoded);
        }
    }

    [Fact]
    public void Anthropic_keeps_an_unknown_block_for_an_Anthropic_upstream()
    {
        var request = Codecs.For(Dialect.Anthropic).DecodeRequest(Wire.Parse("""
        {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hello"},{"type":"future_block","data":"zzz"}]}]}
        """));

        var encoded = Codecs.For(Dialect.Anthropic).EncodeRequest(request, "m");

        Assert.Equal("future_block", (string?)encoded["messages"]![0]!["content"]![1]!["type"]);
    }
}
