using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;

namespace PluginProxy.Formats.Gemini;

/// <summary>Gemini <c>Part</c> objects to canonical content parts and back (requests and answers alike).</summary>
internal static class GeminiParts
{
    // ---- decoding, from elements (client requests; upstream answers convert their parts array once) ----

    /// <summary>
    /// One part; <paramref name="path"/> is formatted only if the part is refused. Without <paramref name="pairing"/>
    /// (answers) call ids are the upstream's, or new ones.
    /// </summary>
    public static ContentPart Decode(JsonElement part, in RequestPath path, CallPairing? pairing)
    {
        var signature = GeminiElement.OptionalString(part, "thoughtSignature", path);
        ContentPart decoded;
        if (GeminiElement.OptionalObject(part, "functionCall", path, out var call))
            decoded = DecodeCall(call, path.Append("functionCall"), pairing);
        else if (GeminiElement.OptionalObject(part, "functionResponse", path, out var result))
            decoded = DecodeResult(result, path.Append("functionResponse"), pairing);
        else if (GeminiElement.OptionalObject(part, "inlineData", path, out var inline))
            decoded = DecodeMedia(inline, path.Append("inlineData"), inline: true);
        else if (GeminiElement.OptionalObject(part, "fileData", path, out var file))
            decoded = DecodeMedia(file, path.Append("fileData"), inline: false);
        else if (GeminiElement.Has(part, "executableCode") || GeminiElement.Has(part, "codeExecutionResult"))
            return new NativePart(Dialect.Gemini, JsonText.ToNode(part)!);
        else
        {
            var text = GeminiElement.OptionalString(part, "text", path);
            // A bare signature part is what Gemini streams to close a thought.
            if (GeminiElement.OptionalBool(part, "thought", path) == true || (text is null && signature is not null))
            {
                return new ReasoningPart
                {
                    Text = text ?? "",
                    Signature = signature,
                    SignatureDialect = signature is null ? null : Dialect.Gemini,
                };
            }
            if (text is null) return new NativePart(Dialect.Gemini, JsonText.ToNode(part)!);
            decoded = new TextPart(text);
        }
        return Sign(decoded, signature);
    }

    private static ToolCallPart DecodeCall(JsonElement call, in RequestPath path, CallPairing? pairing)
    {
        var name = GeminiElement.OptionalString(call, "name", path) ?? throw new RequestFormatException($"{path.Field("name")} is required");
        var id = GeminiElement.OptionalString(call, "id", path);
        var hasArgs = GeminiElement.TryGet(call, "args", out var args);
        if (hasArgs && args.ValueKind != JsonValueKind.Object) throw new RequestFormatException($"{path.Field("args")} must be an object");
        return new ToolCallPart
        {
            Id = pairing?.Call(name, id) ?? id ?? GeminiMapping.NewCallId(),
            Name = name,
            Arguments = hasArgs ? JsonText.Serialize(args) : "{}",
        };
    }

    /// <summary>
    /// <c>{"result": text}</c> is how this codec wraps plain-text results and <c>{"error": ...}</c> is Gemini's
    /// convention for failures; both are unwrapped so other dialects see the text. Anything else stays JSON text.
    /// </summary>
    private static ToolResultPart DecodeResult(JsonElement result, in RequestPath path, CallPairing? pairing)
    {
        var name = GeminiElement.OptionalString(result, "name", path) ?? throw new RequestFormatException($"{path.Field("name")} is required");
        var id = GeminiElement.OptionalString(result, "id", path);
        var hasResponse = GeminiElement.OptionalObject(result, "response", path, out var response);
        var decoded = new ToolResultPart
        {
            ToolCallId = pairing?.Result(name, id) ?? id ?? GeminiMapping.NewCallId(),
            Name = name,
        };
        JsonProperty single = default;
        var count = 0;
        if (hasResponse)
        {
            foreach (var property in response.EnumerateObject())
            {
                if (++count > 1) break;
                single = property;
            }
        }
        if (count == 1 && single.NameEquals("result"u8) && LenientJson.String(single.Value) is { } text)
        {
            decoded.Content.Add(new TextPart(text));
        }
        else if (count == 1 && single.NameEquals("error"u8) && single.Value.ValueKind != JsonValueKind.Null)
        {
            decoded.IsError = true;
            decoded.Content.Add(new TextPart(LenientJson.String(single.Value) ?? JsonText.Serialize(single.Value)));
        }
        else
        {
            decoded.Content.Add(new TextPart(hasResponse ? JsonText.Serialize(response) : "{}"));
        }
        // Gemini 3 multimodal function responses carry media in functionResponse.parts.
        if (GeminiElement.OptionalArray(result, "parts", path, out var parts))
        {
            var i = 0;
            foreach (var item in parts.EnumerateArray())
            {
                var partPath = path.Append("parts", i++);
                GeminiElement.RequireObject(item, partPath);
                decoded.Content.Add(Decode(item, partPath, pairing));
            }
        }
        return decoded;
    }

    private static ContentPart DecodeMedia(JsonElement media, in RequestPath path, bool inline)
    {
        var mimeType = GeminiElement.OptionalString(media, "mimeType", path);
        string? data = null, url = null;
        if (inline) data = GeminiElement.OptionalString(media, "data", path) ?? throw new RequestFormatException($"{path.Field("data")} is required");
        else url = GeminiElement.OptionalString(media, "fileUri", path) ?? throw new RequestFormatException($"{path.Field("fileUri")} is required");
        return Media(mimeType, data, url);
    }

    private static ContentPart Media(string? mimeType, string? data, string? url) =>
        mimeType is not null && mimeType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            ? new ImagePart { MediaType = mimeType, Data = data, Url = url }
            : new DocumentPart { MediaType = mimeType, Data = data, Url = url };

    /// <summary>A thought signature on a call is the call's; on a text or media part it is kept in the part's extensions.</summary>
    private static ContentPart Sign(ContentPart decoded, string? signature)
    {
        if (signature is null) return decoded;
        if (decoded is ToolCallPart signedCall)
        {
            signedCall.Signature = signature;
            signedCall.SignatureDialect = Dialect.Gemini;
        }
        else
        {
            decoded.Extensions = new JsonObject { [GeminiMapping.SignatureKey] = signature };
        }
        return decoded;
    }

    /// <summary>
    /// One canonical part as a Gemini part, or null when Gemini cannot carry it. In <paramref name="history"/>
    /// (an upstream request) reasoning is only sent back with a Gemini signature, since unsigned thought text is
    /// useless to the model; in answers to clients thought text is always shown.
    /// </summary>
    public static JsonObject? Encode(ContentPart part, bool history)
    {
        JsonObject? encoded = part switch
        {
            // Gemini rejects empty text parts in requests unless they carry a signature.
            TextPart { Text.Length: 0 } when history && SignatureOf(part) is null => null,
            TextPart text => new JsonObject { ["text"] = text.Text },
            ReasoningPart reasoning => EncodeReasoning(reasoning, history),
            ImagePart image => EncodeMedia(image.MediaType, image.Data, image.Url),
            DocumentPart { Data: null, Url: null, Text: { } text } => new JsonObject { ["text"] = text },
            DocumentPart document => EncodeMedia(document.MediaType, document.Data, document.Url),
            ToolCallPart call => new JsonObject { ["functionCall"] = EncodeCall(call.Id, call.Name, call.Arguments) },
            NativePart { Dialect: Dialect.Gemini } native => native.Json.DeepClone() as JsonObject,
            _ => null,
        };
        if (encoded is not null && part is not (ReasoningPart or NativePart) && SignatureOf(part) is { } signature)
            encoded["thoughtSignature"] = signature;
        return encoded;
    }

    public static JsonObject EncodeCall(string id, string name, string arguments)
    {
        var call = new JsonObject
        {
            ["name"] = name,
            ["args"] = JsonText.TryParse(arguments) as JsonObject ?? new JsonObject(),
        };
        if (!string.IsNullOrEmpty(id)) call["id"] = id;
        return call;
    }

    /// <summary>
    /// The Gemini signature to send on a non-reasoning part: a call's own signature when Gemini minted it, else the
    /// signature Gemini put on a text or media part (kept in the part's extensions).
    /// </summary>
    public static string? SignatureOf(ContentPart part) => part switch
    {
        ToolCallPart call => call.SignatureDialect == Dialect.Gemini && !string.IsNullOrEmpty(call.Signature) ? call.Signature : null,
        _ => GeminiJson.AsString(part.Extensions?[GeminiMapping.SignatureKey]),
    };

    private static JsonObject? EncodeReasoning(ReasoningPart reasoning, bool history)
    {
        if (reasoning.RedactedData is not null) return null;
        var signature = reasoning.SignatureDialect == Dialect.Gemini && !string.IsNullOrEmpty(reasoning.Signature) ? reasoning.Signature : null;
        if (history && signature is null) return null;
        var part = new JsonObject { ["text"] = reasoning.Text, ["thought"] = true };
        if (signature is not null) part["thoughtSignature"] = signature;
        return part;
    }

    public static JsonObject? EncodeMedia(string? mimeType, string? data, string? url)
    {
        if (data is not null)
        {
            var inline = new JsonObject();
            if (mimeType is not null) inline["mimeType"] = mimeType;
            inline["data"] = data;
            return new JsonObject { ["inlineData"] = inline };
        }
        if (url is null) return null;
        var file = new JsonObject();
        if (mimeType is not null) file["mimeType"] = mimeType;
        file["fileUri"] = url;
        return new JsonObject { ["fileData"] = file };
    }
}

/// <summary>
/// Gemini function calls and responses need not carry ids. Missing call ids are minted as
/// <c>call_&lt;name&gt;_&lt;n&gt;</c> (stable for the same history), and id-less responses take the oldest
/// unanswered call of the same name.
/// </summary>
internal sealed class CallPairing
{
    private readonly Dictionary<string, List<string>> _pending = new(StringComparer.Ordinal);
    private int _minted;

    public string Call(string name, string? id)
    {
        id ??= Mint(name);
        Pending(name).Add(id);
        return id;
    }

    public string Result(string name, string? id)
    {
        var pending = Pending(name);
        if (id is not null)
        {
            pending.Remove(id);
            return id;
        }
        if (pending.Count == 0) return Mint(name);
        var oldest = pending[0];
        pending.RemoveAt(0);
        return oldest;
    }

    private List<string> Pending(string name)
    {
        if (!_pending.TryGetValue(name, out var list)) _pending[name] = list = [];
        return list;
    }

    private string Mint(string name) => $"call_{name}_{++_minted}";
}
