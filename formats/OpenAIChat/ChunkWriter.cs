using System.Buffers;
using System.Text.Json;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Writes the <c>data: {...}</c> frames of an OpenAI stream (chat or legacy completions). Every chunk of one stream
/// carries the same <c>id</c>, <c>object</c>, <c>created</c> and <c>model</c>; they come from
/// <see cref="ResponseStarted"/> or are synthesised when the first chunk is written without it.
/// </summary>
internal sealed class ChunkWriter(string objectType, string idPrefix, string requestModel)
{
    private Utf8JsonWriter? _json;
    private string? _id;
    private string _model = requestModel;
    private long _created;

    public bool HasHeader => _id is not null;

    /// <summary>The writer of the chunk currently open between <see cref="Begin"/> and <see cref="End"/>.</summary>
    public Utf8JsonWriter Json => _json ?? throw new InvalidOperationException("no chunk is open");

    public void Start(ResponseStarted started)
    {
        _id = started.Id.Length > 0 ? started.Id : ChatWire.NewCompletionId(idPrefix);
        if (started.Model.Length > 0) _model = started.Model;
        _created = started.Created > 0 ? started.Created : ChatWire.Now();
    }

    /// <summary>Writes <c>data: </c> and opens the chunk object with its header fields; finish with <see cref="End"/>.</summary>
    public Utf8JsonWriter Begin(IBufferWriter<byte> output)
    {
        if (_id is null)
        {
            _id = ChatWire.NewCompletionId(idPrefix);
            _created = ChatWire.Now();
        }
        output.Write("data: "u8);
        if (_json is null) _json = new Utf8JsonWriter(output, JsonText.WriterOptions);
        else _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("id", _id);
        _json.WriteString("object", objectType);
        _json.WriteNumber("created", _created);
        _json.WriteString("model", _model);
        return _json;
    }

    /// <summary>Closes the chunk object opened by <see cref="Begin"/> and ends the SSE frame.</summary>
    public void End(IBufferWriter<byte> output)
    {
        Json.WriteEndObject();
        Json.Flush();
        output.Write("\n\n"u8);
    }

    /// <summary>The usage chunk: <c>choices:[]</c> plus <c>usage</c>.</summary>
    public void WriteUsage(IBufferWriter<byte> output, Usage usage)
    {
        var json = Begin(output);
        json.WriteStartArray("choices");
        json.WriteEndArray();
        json.WritePropertyName("usage");
        ChatWire.UsageJson(usage).WriteTo(json);
        End(output);
    }

    public static void WriteDone(IBufferWriter<byte> output) => SseWriter.WriteData(output, "[DONE]");

    /// <summary>Mid-stream error: <c>data: {"error":{...}}</c>; nothing may follow it.</summary>
    public static void WriteError(IBufferWriter<byte> output, int status, string message) =>
        SseWriter.Write(output, null, ChatWire.ErrorBody(status, message, null));
}
