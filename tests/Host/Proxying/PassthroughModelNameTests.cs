using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Host.Proxying;

namespace PluginProxy.Tests.Host.Proxying;

/// <summary>How passthrough answers are renamed to <c>RouteDecision.ResponseModel</c>.</summary>
public sealed class PassthroughModelNameTests
{
    [Theory]
    [InlineData("""data: {"type":"message_start","message":{"id":"m","model":"upstream"}}""", "message.model")]
    [InlineData("""data: {"candidates":[],"modelVersion":"upstream"}""", "modelVersion")]
    [InlineData("""data:{"id":"c","model":"upstream","choices":[]}""", "model")]
    [InlineData("""data: {"type":"response.created","response":{"model":"upstream"}}""", "response.model")]
    [InlineData("""data: {"response":{"modelVersion":"upstream"}}""", "response.modelVersion")]
    public void A_data_line_naming_a_model_is_renamed(string line, string field)
    {
        var rewritten = PassthroughModelName.RewriteDataLine(Encoding.UTF8.GetBytes(line), "asked(high)");

        Assert.NotNull(rewritten);
        var text = Encoding.UTF8.GetString(rewritten);
        Assert.StartsWith(line[..line.IndexOf('{')], text); // "data:" or "data: " kept as it was
        var json = JsonNode.Parse(text[text.IndexOf('{')..])!;
        var node = field.Split('.').Aggregate(json, (n, key) => n[key]!);
        Assert.Equal("asked(high)", (string?)node);
    }

    [Theory]
    [InlineData("data: [DONE]")]
    [InlineData("""data: {"type":"content_block_delta","delta":{"text":"hi"}}""")]
    [InlineData("""data: {"model":"asked"}""")] // already the name
    [InlineData("""data: {"model":{"not":"a string"}}""")]
    [InlineData("""data: {"model": broken""")]
    [InlineData("event: message_start")]
    [InlineData(": keep-alive \"model\"")]
    [InlineData("")]
    public void Other_lines_keep_their_bytes(string line) =>
        Assert.Null(PassthroughModelName.RewriteDataLine(Encoding.UTF8.GetBytes(line), "asked"));

    [Fact]
    public void Text_that_mentions_model_is_not_a_field()
    {
        Assert.Null(PassthroughModelName.Rewrite("""{"delta":{"text":"the \"model\" field"}}"""u8, "asked"));
    }

    [Fact]
    public async Task A_json_body_is_renamed_and_an_error_answer_is_not_touched()
    {
        const string body = """{"id":"x","model":"upstream","content":[{"type":"text","text":"ok"}]}""";

        var renamed = await ReadAllAsync(PassthroughModelName.Wrap(Stream(body), "asked", 200, sse: false));
        var error = PassthroughModelName.Wrap(Stream(body), "asked", 400, sse: false);
        var unrouted = PassthroughModelName.Wrap(Stream(body), null, 200, sse: false);

        Assert.Equal("asked", (string?)JsonNode.Parse(renamed)!["model"]);
        Assert.Equal("ok", (string?)JsonNode.Parse(renamed)!["content"]![0]!["text"]);
        Assert.Equal(body, await ReadAllAsync(error));
        Assert.Equal(body, await ReadAllAsync(unrouted));
    }

    [Fact]
    public async Task A_json_array_of_chunks_is_renamed_element_by_element()
    {
        var renamed = await ReadAllAsync(PassthroughModelName.Wrap(Stream("""[{"modelVersion":"u"},{"modelVersion":"u"}]"""), "asked", 200, sse: false));

        Assert.All(JsonNode.Parse(renamed)!.AsArray(), item => Assert.Equal("asked", (string?)item!["modelVersion"]));
    }

    [Fact]
    public async Task A_body_that_is_not_json_passes_unchanged()
    {
        Assert.Equal("not json \"model\"", await ReadAllAsync(PassthroughModelName.Wrap(Stream("not json \"model\""), "asked", 200, sse: false)));
    }

    [Fact]
    public async Task An_sse_stream_keeps_its_line_ends_and_other_events()
    {
        const string sse = "event: message_start\r\ndata: {\"message\":{\"model\":\"u\"}}\r\n\r\ndata: {\"delta\":\"x\"}\n\ndata: [DONE]\n\n";

        var text = await ReadAllAsync(PassthroughModelName.Wrap(Stream(sse), "asked", 200, sse: true));

        Assert.Equal("event: message_start\r\ndata: {\"message\":{\"model\":\"asked\"}}\r\n\r\ndata: {\"delta\":\"x\"}\n\ndata: [DONE]\n\n", text);
    }

    private static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
