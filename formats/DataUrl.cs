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

    public static string Build(string? mediaType, string data) =>
        $"data:{(string.IsNullOrEmpty(mediaType) ? "application/octet-stream" : mediaType)}{Base64Marker}{data}";
}
