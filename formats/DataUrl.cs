using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace PluginProxy.Formats;

/// <summary>Base64 <c>data:&lt;media type&gt;;base64,&lt;payload&gt;</c> URLs, the way OpenAI dialects carry inline images and files.</summary>
public static class DataUrl
{
    private const string Base64Marker = ";base64,";

    /// <summary>Splits a base64 data URL; false for any other URL (including non-base64 data URLs, which stay URLs).</summary>
    public static bool TryParse(string url, out string mediaType, out string data)
    {
        mediaType = data = "";
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return false;
        var marker = url.IndexOf(Base64Marker, StringComparison.OrdinalIgnoreCase);
        if (marker < 0) return false;
        mediaType = marker > 5 ? url[5..marker] : "application/octet-stream";
        data = url[(marker + Base64Marker.Length)..];
        return true;
    }

    /// <summary>
    /// <see cref="TryParse(string, out string, out string)"/> on a JSON string value, decoding only the payload: a plain
    /// ASCII data URL without escapes is split on its UTF-8 bytes, so a megabyte image costs one string (the payload)
    /// rather than the URL's and then its slice. Anything else takes the string route, so the split is always the same.
    /// </summary>
    public static bool TryParse(JsonElement value, out string mediaType, out string data)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length >= 2 && raw[0] == (byte)'"') raw = raw[1..^1]; // the quotes
        if (raw.Length >= 5 && Ascii.EqualsIgnoreCase(raw[..5], "data:"u8) && !raw.Contains((byte)'\\'))
        {
            var marker = IndexOfBase64Marker(raw);
            // Up to the marker the text must be ASCII for the byte search to find what a case-insensitive string search would.
            if (marker >= 0 && Ascii.IsValid(raw[..marker]))
            {
                mediaType = marker > 5 ? Encoding.ASCII.GetString(raw[5..marker]) : "application/octet-stream";
                data = Encoding.UTF8.GetString(raw[(marker + Base64MarkerUtf8.Length)..]);
                return true;
            }
        }
        return TryParse(value.GetString()!, out mediaType, out data);
    }

    private static ReadOnlySpan<byte> Base64MarkerUtf8 => ";base64,"u8;

    /// <summary>The first <c>;base64,</c> in any letter case, or -1.</summary>
    private static int IndexOfBase64Marker(ReadOnlySpan<byte> text)
    {
        for (var offset = 0; ;)
        {
            var semicolon = text[offset..].IndexOf((byte)';');
            if (semicolon < 0) return -1;
            var at = offset + semicolon;
            if (text.Length - at < Base64MarkerUtf8.Length) return -1;
            if (Ascii.EqualsIgnoreCase(text.Slice(at, Base64MarkerUtf8.Length), Base64MarkerUtf8)) return at;
            offset = at + 1;
        }
    }

    public static string Build(string? mediaType, string data) =>
        $"data:{(string.IsNullOrEmpty(mediaType) ? "application/octet-stream" : mediaType)}{Base64Marker}{data}";
}
