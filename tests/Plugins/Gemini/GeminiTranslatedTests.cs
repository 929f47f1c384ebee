using System.Text.Json.Nodes;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Plugins.Gemini;

/// <summary>Every client dialect to both kinds of Gemini account, streaming and not: a tool loop with an image and thinking.</summary>
public sealed class GeminiTranslatedTests
{
    private const string Signature = "c2lnbmF0dXJlLW9mLXRoZS1jYWxs";
    private const string ThoughtChunk = """{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking the weather tool.","thought":true}]},"index":0}],"responseId":"resp-1","modelVersion":"gemini-2.5-pro"}""";
    private const string CallChunk = $$$"""{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Rome"}},"thoughtSignature":"{{{Signature}}}"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"thoughtsTokenCount":4,"totalTokenCount":29},"responseId":"resp-1","modelVersion":"gemini-2.5-pro"}""";
    private const string Whole = $$$"""{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking the weather tool.","thought":true},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}},"thoughtSignature":"{{{Signature}}}"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"thoughtsTokenCount":4,"totalTokenCount":29},"responseId":"resp-1","modelVersion":"gemini-2.5-pro"}""";
    private const string Sunny = """{"candidates":[{"content":{"role":"model","parts":[{"text":"It is sunny in Rome."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":6,"totalTokenCount":36}}""";

    public static TheoryData<ClientKind, AccountKind, bool> Cases()
    {
        var data = new TheoryData<ClientKind, AccountKind, bool>();
        foreach (var client in Enum.GetValues<ClientKind>())
            foreach (var account in Enum.GetValues<AccountKind>())
                foreach (var stream in new[] { false, true })
                    data.Add(client, account, stream);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tool_loop_with_image_and_thinking(ClientKind client, AccountKind account, bool stream)
    {
        await using var proxy = await GeminiProxy.StartAsync(account);
        proxy.Enqueue(stream ? GeminiReply.Stream(ThoughtChunk, CallChunk) : GeminiReply.Json(Whole));
        proxy.Enqueue(stream ? GeminiReply.Stream(Sunny) : GeminiReply.Json(Sunny));

        // Turn one: the model thinks and calls the tool.
        var (status, body, _) = await proxy.PostAsync(ClientDialects.Path(client, stream), ClientDialects.FirstTurn(client, stream).ToJsonString());
        Assert.True(status == 200, body);
        Assert.Contains("get_weather", body);
        Assert.Contains("Rome", body);
        Assert.Contains("Checking the weather tool.", body);

        var first = proxy.Requests[0];
        var path = account switch
        {
            AccountKind.ApiKey => "/v1beta/models/gemini-2.5-pro:",
            AccountKind.Vertex => GeminiProxy.VertexModelPath + "gemini-2.5-pro:",
            _ => "/v1internal:",
        };
        Assert.Equal(path + (stream ? "streamGenerateContent" : "generateContent"), first.Path);
        Assert.Equal(stream ? "?alt=sse" : "", first.Query);
        if (account == AccountKind.GeminiCli)
        {
            Assert.Equal(GeminiProxy.Model, (string?)first.Json!["model"]);
            Assert.Equal(GeminiProxy.Project, (string?)first.Json["project"]);
            Assert.Equal("Bearer " + GeminiProxy.AccessToken, first.Header("authorization"));
        }
        else if (account == AccountKind.Vertex)
        {
            Assert.Equal("Bearer " + GeminiProxy.VertexToken, first.Header("authorization"));
        }
        else
        {
            Assert.Equal(GeminiProxy.ApiKeyOne, first.Header("x-goog-api-key"));
        }
        var sent = proxy.GeminiBody(first);
        Assert.Equal("Be brief.", (string?)sent["systemInstruction"]!["parts"]![0]!["text"]);
        var userParts = sent["contents"]![0]!["parts"]!.AsArray();
        Assert.Contains(userParts, p => (string?)p!["inlineData"]?["data"] == ClientDialects.Image && (string?)p["inlineData"]!["mimeType"] == "image/png");
        var declaration = sent["tools"]![0]!["functionDeclarations"]![0]!;
        Assert.Equal("get_weather", (string?)declaration["name"]);
        JsonAssert.Equal(ClientDialects.CleanSchema, declaration["parametersJsonSchema"]);
        Assert.Equal(5, sent["safetySettings"]!.AsArray().Count);
        var thinking = sent["generationConfig"]!["thinkingConfig"]!;
        Assert.True((bool)thinking["includeThoughts"]!);
        Assert.Equal(client switch
        {
            ClientKind.Anthropic => 32768,      // 100000 clamped to gemini-2.5-pro's maximum
            ClientKind.GeminiTranslated => 8192, // the model suffix
            _ => 24576,                          // effort high
        }, (int)thinking["thinkingBudget"]!);

        // Turn two: the result goes back; Gemini clients return the call with its signature.
        JsonObject? callPart = null;
        if (client == ClientKind.GeminiTranslated)
            callPart = GeminiCallPart(body, stream);
        (status, body, _) = await proxy.PostAsync(ClientDialects.Path(client, stream), ClientDialects.SecondTurn(client, stream, callPart).ToJsonString());
        Assert.True(status == 200, body);
        Assert.Contains("It is sunny in Rome.", body);

        var contents = proxy.GeminiBody(proxy.Requests[1])["contents"]!.AsArray();
        var model = contents[^2]!;
        Assert.Equal("model", (string?)model["role"]);
        var call = model["parts"]!.AsArray().Single(p => p!["functionCall"] is not null)!;
        Assert.Equal("get_weather", (string?)call["functionCall"]!["name"]);
        JsonAssert.Equal("""{"city":"Rome"}""", call["functionCall"]!["args"]);
        // The signature is only given back to the dialect that produced it; other calls carry Gemini's skip sentinel.
        Assert.Equal(client == ClientKind.GeminiTranslated ? Signature : "skip_thought_signature_validator", (string?)call["thoughtSignature"]);
        var result = contents[^1]!["parts"]!.AsArray().Single(p => p!["functionResponse"] is not null)!["functionResponse"]!;
        Assert.Equal("get_weather", (string?)result["name"]);
        Assert.Contains("sunny", result["response"]!.ToJsonString());
    }

    /// <summary>The function-call part of a Gemini answer (the last SSE event's, when streamed).</summary>
    private static JsonObject GeminiCallPart(string body, bool stream)
    {
        var chunks = stream
            ? body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l[6..])!).ToList()
            : [JsonNode.Parse(body)!];
        return chunks.SelectMany(c => c["candidates"]![0]!["content"]?["parts"]?.AsArray() ?? [])
            .OfType<JsonObject>().Single(p => p["functionCall"] is not null);
    }
}
