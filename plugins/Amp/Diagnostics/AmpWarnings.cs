using System.Collections.Concurrent;

namespace PluginProxy.Plugins.Amp.Diagnostics;

/// <summary>
/// Warnings from <c>Route</c>, once per model, so an operator sees which Amp model is not served locally: into the
/// host's log (<c>RouteContext.Log</c>); when a context has none (a caller outside the host), to <see cref="Sink"/>.
/// </summary>
internal static class AmpWarnings
{
    private const int MaxRemembered = 256;

    private static readonly ConcurrentDictionary<string, byte> Warned = new(StringComparer.OrdinalIgnoreCase);

    public static Action<string> Sink { get; set; } = message => Console.Error.WriteLine(message);

    public static void ModelNotServed(string model, PluginProxy.Abstractions.Plugins.IPluginLog? log = null)
    {
        // Bounded: a client sending random names must not grow this without end (it then warns again, which is harmless).
        if (Warned.Count >= MaxRemembered) Warned.Clear();
        if (!Warned.TryAdd(model, 0)) return;
        if (log is not null)
        {
            log.Warn("Amp requested model {Model}, which no local account serves and no ampcode.model-mappings entry maps to a served model; " +
                "the request is refused (it is never forwarded to ampcode.com, so no Amp credits are used). Add a mapping under ampcode.model-mappings.",
                Clean(model));
            return;
        }
        Sink($"warn: Amp requested model '{Clean(model)}', which no local account serves and no ampcode.model-mappings entry maps to a served model; " +
            "the request is refused (it is never forwarded to ampcode.com, so no Amp credits are used). " +
            $"Add a mapping such as {{ from: \"{Clean(model)}\", to: \"<a model in GET /v1/models>\" }} under ampcode.model-mappings.");
    }

    // The name comes from the client: keep a log line one line, and short.
    private static string Clean(string model)
    {
        var text = new string([.. model.Where(c => !char.IsControl(c))]);
        return text.Length > 120 ? text[..120] + "..." : text;
    }
}
