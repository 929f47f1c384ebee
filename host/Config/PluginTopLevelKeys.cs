using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginProxy.Host.Config;

/// <summary>
/// CLIProxyAPI keeps some provider settings at the top level of config.yaml; PluginProxy's plugins read theirs from
/// <c>providers.&lt;id&gt;</c>. These top-level keys are copied into the plugin's block, where the block itself does
/// not set them, so a CLIProxyAPI file works unchanged:
/// <list type="bullet">
/// <item><c>disable-claude-cloak-mode</c> → <c>providers.claude.disable-cloak-mode</c></item>
/// <item><c>claude-header-defaults.{user-agent, package-version, runtime-version, os, arch, timeout}</c> → <c>providers.claude.&lt;same&gt;</c></item>
/// <item><c>codex-header-defaults.{user-agent, beta-features}</c> → <c>providers.codex.&lt;same&gt;</c></item>
/// </list>
/// </summary>
internal static class PluginTopLevelKeys
{
    public static JsonElement Merge(string pluginId, JsonElement own, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return own;
        var extra = new List<KeyValuePair<string, JsonNode?>>();
        switch (pluginId.ToLowerInvariant())
        {
            case "claude":
                if (root.TryGetProperty("disable-claude-cloak-mode", out var disable) && disable.ValueKind == JsonValueKind.String)
                    extra.Add(new("disable-cloak-mode", disable.GetString()));
                AddAll(extra, root, "claude-header-defaults");
                break;
            case "codex":
                AddAll(extra, root, "codex-header-defaults");
                break;
        }
        if (extra.Count == 0) return own;
        var merged = own.ValueKind == JsonValueKind.Object ? JsonObject.Create(own)!.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in extra)
            if (!merged.ContainsKey(key)) merged[key] = value;
        return JsonSerializer.SerializeToElement(merged, JsonNodeContext.Default.JsonNode);
    }

    private static void AddAll(List<KeyValuePair<string, JsonNode?>> extra, JsonElement root, string block)
    {
        if (!root.TryGetProperty(block, out var defaults) || defaults.ValueKind != JsonValueKind.Object) return;
        foreach (var property in defaults.EnumerateObject())
            if (property.Value.ValueKind == JsonValueKind.String) extra.Add(new(property.Name, property.Value.GetString()));
    }
}
