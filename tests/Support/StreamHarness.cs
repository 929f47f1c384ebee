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

    /// <summary>Decodes SSE text with a fresh decoder, including the completion step.</summary>
    public static List<StreamEvent> Decode(IStreamDecoder decoder, string sseText)
    {
        var output = new List<StreamEvent>();
        foreach (var sse in ParseSse(sseText)) decoder.Decode(sse, output);
        decoder.Complete(output);
        return output;
    }
}
