using System.Globalization;
using System.Text.Json;

namespace PluginProxy.Abstractions.Plugins;

/// <summary>
/// A plugin's settings: the <c>providers.&lt;plugin-id&gt;</c> block of config.yaml, as JSON, from the config snapshot the
/// request (or login, or refresh) started with. Every URL a plugin calls should be read from here with the real URL as
/// the default, so that operators can point it at a gateway and tests at a fake. Keys are the YAML keys
/// (<c>api-url</c>, <c>token-url</c>, ...). Immutable.
/// </summary>
public sealed class PluginSettings
{
    public static readonly PluginSettings Empty = new(default, default);

    /// <param name="own">The <c>providers.&lt;id&gt;</c> object (undefined when absent).</param>
    /// <param name="root">The whole config as JSON, for plugins that own a top-level block (Amp's <c>ampcode</c>).</param>
    public PluginSettings(JsonElement own, JsonElement root)
    {
        Own = own;
        Root = root;
    }

    /// <summary>The plugin's own block; <see cref="JsonValueKind.Undefined"/> when config.yaml has none.</summary>
    public JsonElement Own { get; }

    /// <summary>The whole config as JSON (YAML scalars as strings). Read a top-level block with <see cref="Section"/>.</summary>
    public JsonElement Root { get; }

    /// <summary>A top-level config block (for example <c>ampcode</c>); undefined when absent.</summary>
    public JsonElement Section(string key) =>
        Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty(key, out var value) ? value : default;

    /// <summary>A string setting, or <paramref name="defaultValue"/> when absent or blank.</summary>
    public string GetString(string key, string defaultValue) => GetString(key) ?? defaultValue;

    public string? GetString(string key)
    {
        if (Own.ValueKind != JsonValueKind.Object || !Own.TryGetProperty(key, out var value)) return null;
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    public int GetInt(string key, int defaultValue) =>
        int.TryParse(GetString(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : defaultValue;

    public bool GetBool(string key, bool defaultValue) => GetString(key)?.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => defaultValue,
    };
}
