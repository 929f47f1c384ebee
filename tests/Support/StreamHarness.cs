using System.Buffers;
using System.Text;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Tests.Support;

/// <summary>Runs stream encoders and decoders over in-memory data.</summary>
public static class StreamHarness
{
    /// <summary>Encodes events with a fresh encoder and returns the bytes as text.</summary>
    public static string Encode(IStreamEncoder encoder, IEnumerable<StreamEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var e in events) encoder.Encode(e, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses SSE text into events.</summary>
    public static List<SseEvent> ParseSse(string text)
    {
        var list = new List<SseEvent>();
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var e = SseReader.ReadAsync(stream).GetAsyncEnumerator();
        while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) list.Add(e.Current.Copy());
        return list;
    }

    /// <summary>
    /// Decodes SSE text as the reader hands it over: each event from one buffer that is overwritten right after
    /// <see cref="IStreamDecoder.Decode"/> returns, so anything the decoder kept pointing into it shows up as <c>#</c>s
    /// (or an <see cref="ObjectDisposedException"/> from its document). Includes the completion step.
    /// </summary>
    public static List<StreamEvent> DecodeFromReusedBuffer(IStreamDecoder decoder, string sseText)
    {
        var output = new List<StreamEvent>();
        foreach (var sse in ParseSse(sseText)) DecodeThenOverwrite(decoder, output, sse.Event, sse.Data);
        decoder.Complete(output);
        return output;
    }

    /// <summary>Decodes one event from a buffer overwritten right after the call (see <see cref="DecodeFromReusedBuffer"/>).</summary>
    public static void DecodeThenOverwrite(IStreamDecoder decoder, List<StreamEvent> output, string? eventName, string data)
    {
        var buffer = new byte[Encoding.UTF8.GetMaxByteCount(data.Length)];
        var length = Encoding.UTF8.GetBytes(data, buffer);
        decoder.Decode(new SseEvent(eventName, buffer.AsMemory(0, length)), output);
        buffer.AsSpan().Fill((byte)'#');
    }

    /// <summary>Decodes SSE text with a fresh decoder, including the completion step.</summary>
    public static List<StreamEvent> Decode(IStreamDecoder decoder, string sseText)
    {
        var output = new List<StreamEvent>();
        foreach (var sse in ParseSse(sseText)) decoder.Decode(sse, output);
        decoder.Complete(output);
        return output;
    }
}
