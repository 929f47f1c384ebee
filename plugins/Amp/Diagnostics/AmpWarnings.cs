using System.Collections.Concurrent;
using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Plugins.Amp.Diagnostics;

/// <summary>
/// Warnings from <c>Route</c> about Amp models no local account serves: into the host's log (<c>RouteContext.Log</c>);
/// when a context has none (a caller outside the host), to <see cref="Sink"/>. A fall-through to ampcode is warned about
/// every time (each one uses Amp credits); a local refusal once per model.
/// </summary>
internal static class AmpWarnings
{
    private const int MaxRemembered = 256;

    private static readonly ConcurrentDictionary<string, byte> Warned = new(StringComparer.OrdinalIgnoreCase);

    public static Action<string> Sink { get; set; } = message => Console.Error.WriteLine(message);

    /// <summary>The request is refused locally; <paramref name="reason"/> says why it does not go to ampcode.</summary>
    public static void ModelNotServed(string model, string reason, IPluginLog? log = null)
    {
        // Bounded: a client sending random names must not grow this without end (it then warns again, which is harmless).
        if (Warned.Count >= MaxRemembered) Warned.Clear();
        if (!Warned.TryAdd(model, 0)) return;
        const string Text = "Amp requested model {Model}, which no local account serves and no ampcode.model-mappings entry maps to a served model; " +
            "it is refused here ({Reason}), so no Amp credits are used. To serve it, add an ampcode.model-mappings entry from this model " +
            "to one GET /v1/models lists.";
        Write(log, Text, Clean(model), reason);
    }

    /// <summary>The request goes to ampcode and uses Amp credits.</summary>
    public static void FallingThrough(string model, string path, Uri upstream, IPluginLog? log = null)
    {
        const string Text = "Amp requested model {Model} on {Path}, which no local account serves and no ampcode.model-mappings entry maps to a served model: " +
            "forwarding it to {Upstream}, which uses Amp credits. To serve it locally, add an ampcode.model-mappings entry from this model " +
            "to one GET /v1/models lists; to refuse such requests instead, set ampcode.forbid-inference-fallthrough: true.";
        Write(log, Text, Clean(model), Clean(path), upstream.GetLeftPart(UriPartial.Authority));
    }

    private static void Write(IPluginLog? log, string template, params string[] args)
    {
        if (log is not null)
        {
            log.Warn(template, [.. args]);
            return;
        }
        // Outside the host: fill the holes in order.
        var text = template;
        var from = 0;
        foreach (var arg in args)
        {
            var at = text.IndexOf('{', from);
            var end = text.IndexOf('}', at);
            text = text[..at] + arg + text[(end + 1)..];
            from = at + arg.Length; // a value may contain braces itself
        }
        Sink("warn: " + text);
    }

    // The name comes from the client: keep a log line one line, and short.
    private static string Clean(string model)
    {
        var text = new string([.. model.Where(c => !char.IsControl(c))]);
        return text.Length > 120 ? text[..120] + "..." : text;
    }
}
