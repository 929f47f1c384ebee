using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PluginProxy.Plugins.Claude;

/// <summary>What the body is for: count_tokens gets the cloaked system prompt but none of the message-only edits.</summary>
internal enum ClaudeEndpoint
{
    Messages,
    CountTokens,
}

/// <summary>
/// The edits every Messages body gets on its way to Anthropic, whether the client spoke Anthropic (passthrough) or was
/// translated: cloaking, no <c>thinking</c> when a tool is forced, <c>cache_control</c> when the client set none, the
/// body's <c>betas</c> moved to the header (with the betas body fields need), and <c>proxy_</c> tool names for OAuth
/// tokens. Returns whether anything changed, so an untouched passthrough body is sent byte for byte.
/// </summary>
internal static partial class ClaudeRequestShaper
{
    public const string ToolPrefix = "proxy_";

    public sealed record Result(bool Changed, IReadOnlyList<string> BodyBetas);

    public static Result Shape(JsonObject body, ClaudeEndpoint endpoint, ClaudeAccount account, bool cloak)
    {
        var changed = false;
        var model = body["model"] is JsonValue m && m.TryGetValue<string>(out var name) ? name : "";
        if (cloak) changed |= Cloak(body, account.Cloak, model, endpoint);
        if (endpoint == ClaudeEndpoint.Messages)
        {
            changed |= DropThinkingWhenToolForced(body);
            changed |= InjectCacheControl(body);
        }
        var betas = new List<string>();
        if (body["betas"] is { } raw)
        {
            if (raw is JsonArray array)
                betas.AddRange(array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s.Trim() : "").Where(s => s.Length > 0));
            else if (raw is JsonValue value && value.TryGetValue<string>(out var text))
                betas.AddRange(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            body.Remove("betas");
            changed = true;
        }
        if (account.IsOAuth) changed |= PrefixToolNames(body);
        return new Result(changed, betas);
    }

    // ---- cloaking ----

    private static bool Cloak(JsonObject body, CloakSettings settings, string model, ClaudeEndpoint endpoint)
    {
        var changed = false;
        if (!model.StartsWith("claude-3-5-haiku", StringComparison.OrdinalIgnoreCase)) changed |= CloakSystem(body, settings.Strict);
        if (endpoint == ClaudeEndpoint.Messages) changed |= EnsureUserId(body);
        if (settings.SensitiveWords.Count > 0) changed |= Obfuscate(body, settings.SensitiveWords);
        return changed;
    }

    private static JsonObject IdentityBlock() => new() { ["type"] = "text", ["text"] = ClaudeCodeIdentity.SystemPrompt };

    /// <summary>Claude Code's identity line first; strict mode sends only that line, otherwise the client's text blocks follow.</summary>
    private static bool CloakSystem(JsonObject body, bool strict)
    {
        var system = body["system"];
        if (!strict && system is JsonArray blocks && blocks.Count > 0 && blocks[0] is JsonObject first
            && first["text"] is JsonValue t && t.TryGetValue<string>(out var firstText) && firstText.StartsWith(ClaudeCodeIdentity.SystemPrompt, StringComparison.Ordinal))
            return false;
        var result = new JsonArray { IdentityBlock() };
        if (!strict)
        {
            // Unlike CLIProxyAPI, a string system prompt is kept (as a text block after the identity line), not lost.
            if (system is JsonValue sv && sv.TryGetValue<string>(out var text) && text.Length > 0)
                result.Add(new JsonObject { ["type"] = "text", ["text"] = text });
            else if (system is JsonArray array)
                foreach (var block in array)
                    if (block is JsonObject o && (o["type"] as JsonValue)?.GetValue<string>() == "text") result.Add(o.DeepClone());
        }
        body["system"] = result;
        return true;
    }

    [GeneratedRegex("^user_[a-fA-F0-9]{64}_account__session_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")]
    private static partial Regex UserIdShape();

    /// <summary>A Claude Code shaped <c>metadata.user_id</c>, unless the client sent one of that shape.</summary>
    private static bool EnsureUserId(JsonObject body)
    {
        var metadata = body["metadata"] as JsonObject;
        if (metadata?["user_id"] is JsonValue v && v.TryGetValue<string>(out var id) && UserIdShape().IsMatch(id)) return false;
        if (metadata is null) body["metadata"] = metadata = [];
        metadata["user_id"] = $"user_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))}_account__session_{Guid.NewGuid()}";
        return true;
    }

    /// <summary>Breaks each sensitive word (case-insensitive, longest first) with a zero-width space after its first character.</summary>
    private static bool Obfuscate(JsonObject body, IReadOnlyList<string> words)
    {
        var pattern = new Regex(string.Join('|', words.OrderByDescending(w => w.Length).Select(Regex.Escape)), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var changed = false;
        string Rewrite(string text) => pattern.Replace(text, match =>
        {
            var first = char.IsSurrogatePair(match.Value, 0) ? 2 : 1;
            return match.Value[..first] + "\u200B" + match.Value[first..];
        });
        void Texts(JsonNode? node)
        {
            if (node is JsonValue value && value.TryGetValue<string>(out var s))
            {
                var rewritten = Rewrite(s);
                if (rewritten != s) { value.ReplaceWith(rewritten); changed = true; }
            }
            else if (node is JsonArray blocks)
            {
                foreach (var block in blocks)
                    if (block is JsonObject o && (o["type"] as JsonValue)?.GetValue<string>() == "text" && o["text"] is JsonValue tv && tv.TryGetValue<string>(out var text))
                    {
                        var rewritten = Rewrite(text);
                        if (rewritten != text) { o["text"] = rewritten; changed = true; }
                    }
            }
        }
        Texts(body["system"]);
        if (body["messages"] is JsonArray messages)
            foreach (var message in messages)
                if (message is JsonObject o) Texts(o["content"]);
        return changed;
    }

    // ---- request fixes ----

    /// <summary>Anthropic refuses extended thinking with a forced tool choice.</summary>
    private static bool DropThinkingWhenToolForced(JsonObject body)
    {
        if (body["thinking"] is null || body["tool_choice"] is not JsonObject choice) return false;
        var type = (choice["type"] as JsonValue)?.GetValue<string>();
        if (type is not ("any" or "tool")) return false;
        body.Remove("thinking");
        return true;
    }

    /// <summary>
    /// When the client marked nothing for caching, caches the stable prefix: the last tool, the last system block and the
    /// last block of the second-to-last user turn (the conversation so far), as Claude Code itself does.
    /// </summary>
    private static bool InjectCacheControl(JsonObject body)
    {
        if (HasCacheControl(body)) return false;
        var changed = false;
        if (body["tools"] is JsonArray { Count: > 0 } tools && tools[^1] is JsonObject lastTool)
        {
            lastTool["cache_control"] = Ephemeral();
            changed = true;
        }
        if (body["system"] is JsonValue sv && sv.TryGetValue<string>(out var systemText) && systemText.Length > 0)
        {
            body["system"] = new JsonArray { new JsonObject { ["type"] = "text", ["text"] = systemText, ["cache_control"] = Ephemeral() } };
            changed = true;
        }
        else if (body["system"] is JsonArray { Count: > 0 } system && system[^1] is JsonObject lastSystem)
        {
            lastSystem["cache_control"] = Ephemeral();
            changed = true;
        }
        if (body["messages"] is JsonArray messages)
        {
            var users = messages.OfType<JsonObject>().Where(o => (o["role"] as JsonValue)?.GetValue<string>() == "user").ToList();
            if (users.Count >= 2)
            {
                var turn = users[^2];
                if (turn["content"] is JsonValue cv && cv.TryGetValue<string>(out var text) && text.Length > 0)
                {
                    turn["content"] = new JsonArray { new JsonObject { ["type"] = "text", ["text"] = text, ["cache_control"] = Ephemeral() } };
                    changed = true;
                }
                else if (turn["content"] is JsonArray { Count: > 0 } blocks && blocks[^1] is JsonObject last
                         && (last["type"] as JsonValue)?.GetValue<string>() is not ("thinking" or "redacted_thinking"))
                {
                    last["cache_control"] = Ephemeral();
                    changed = true;
                }
            }
        }
        return changed;
    }

    private static JsonObject Ephemeral() => new() { ["type"] = "ephemeral" };

    private static bool HasCacheControl(JsonNode? node) => node switch
    {
        JsonObject o => o.ContainsKey("cache_control") || o.Any(p => HasCacheControl(p.Value)),
        JsonArray a => a.Any(HasCacheControl),
        _ => false,
    };

    // ---- tool names ----

    /// <summary>
    /// Anthropic treats OAuth requests whose custom tools carry Claude Code's own names differently; prefixing every custom
    /// tool (declarations, the forced choice, earlier calls) keeps them apart. Answers get the prefix removed again.
    /// </summary>
    private static bool PrefixToolNames(JsonObject body)
    {
        var changed = false;
        if (body["tools"] is JsonArray tools)
            foreach (var tool in tools.OfType<JsonObject>())
            {
                // Server tools (web_search_..., bash_...) have a type and a fixed name; "custom" is an ordinary tool.
                var type = (tool["type"] as JsonValue)?.GetValue<string>();
                if (type is null or "custom") changed |= Prefix(tool, "name");
            }
        if (body["tool_choice"] is JsonObject choice && (choice["type"] as JsonValue)?.GetValue<string>() == "tool") changed |= Prefix(choice, "name");
        if (body["messages"] is JsonArray messages)
            foreach (var message in messages.OfType<JsonObject>())
                if (message["content"] is JsonArray blocks)
                    foreach (var block in blocks.OfType<JsonObject>())
                        if ((block["type"] as JsonValue)?.GetValue<string>() == "tool_use") changed |= Prefix(block, "name");
        return changed;
    }

    private static bool Prefix(JsonObject node, string key)
    {
        if (node[key] is not JsonValue v || !v.TryGetValue<string>(out var name) || name.Length == 0) return false;
        node[key] = ToolPrefix + name;
        return true;
    }

    /// <summary>The name without the proxy's prefix (names the client chose never start with it unless it sent them so).</summary>
    public static string Unprefix(string name) => name.StartsWith(ToolPrefix, StringComparison.Ordinal) ? name[ToolPrefix.Length..] : name;

    // ---- betas ----

    /// <summary>
    /// The <c>anthropic-beta</c> list: the client's (or the defaults), OAuth's own, the body's <c>betas</c>, and the beta of
    /// every beta-gated field the body carries; each once, in that order.
    /// </summary>
    public static IReadOnlyList<string> MergeBetas(string? clientHeader, bool isOAuth, IReadOnlyList<string> bodyBetas, JsonObject? body)
    {
        var result = new List<string>();
        void Add(string beta)
        {
            if (beta.Length > 0 && !result.Contains(beta, StringComparer.OrdinalIgnoreCase)) result.Add(beta);
        }
        var client = (clientHeader ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var beta in client.Length > 0 ? client : ClaudeCodeIdentity.DefaultBetas) Add(beta);
        if (isOAuth) foreach (var beta in ClaudeCodeIdentity.OAuthBetas) Add(beta);
        foreach (var beta in bodyBetas) Add(beta);
        if (body is not null)
            foreach (var (field, beta) in ClaudeCodeIdentity.FieldBetas)
                if (body.ContainsKey(field) && !result.Any(b => Family(b) == Family(beta))) Add(beta);
        return result;
    }

    // "context-management-2025-06-27" -> "context-management"
    private static string Family(string beta)
    {
        var parts = beta.Split('-');
        var n = parts.Length;
        return n > 3 && parts[^3].Length == 4 && parts[^3].All(char.IsAsciiDigit) ? string.Join('-', parts[..(n - 3)]) : beta;
    }

    /// <summary>A passthrough body as a JSON object, or null when it is not one (then it is sent as it came).</summary>
    public static JsonObject? TryParse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
