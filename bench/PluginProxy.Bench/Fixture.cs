namespace PluginProxy.Bench;

/// <summary>
/// Request bodies and upstream answers the benchmarks use: copies of the perf harness's fixtures
/// (<c>../shared/perf/requests</c>, <c>upstream/www</c>), so the in-process figures and the load runs see the same bytes.
/// </summary>
internal static class Fixture
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Folder, name));

    /// <summary>A client request: <c>request.{dialect}.{size}.json</c>; size "image" is built here (a 1 MB base64 PNG-like payload).</summary>
    public static byte[] Request(string dialect, string size) => size == "image" ? ImageRequest(dialect) : Bytes($"request.{dialect}.{size}.json");

    /// <summary>A request carrying one image of about 1 MB (base64), in the dialect's own shape.</summary>
    public static byte[] ImageRequest(string dialect)
    {
        var raw = new byte[768 * 1024];
        new Random(42).NextBytes(raw);
        var data = Convert.ToBase64String(raw);
        var json = dialect switch
        {
            "chat" => $$$"""{"model":"fake-model","stream":false,"messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{data}}}"}}]}]}""",
            "messages" => $$$"""{"model":"fake-model","max_tokens":256,"stream":false,"messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{data}}}"}}]}]}""",
            "responses" => $$$"""{"model":"fake-model","stream":false,"input":[{"role":"user","content":[{"type":"input_text","text":"What is in this image?"},{"type":"input_image","image_url":"data:image/png;base64,{{{data}}}"}]}]}""",
            _ => $$$"""{"contents":[{"role":"user","parts":[{"text":"What is in this image?"},{"inlineData":{"mimeType":"image/png","data":"{{{data}}}"}}]}]}""",
        };
        return System.Text.Encoding.UTF8.GetBytes(json);
    }
}
