using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PluginProxy.Host.Config;

/// <summary>
/// Edits a YAML document as text, so everything it does not touch — comments, blank lines, key order, quoting — stays
/// byte for byte. YamlDotNet's parser gives each node's span; an edit replaces the span of one value (a scalar keeps
/// its inline comment), inserts a key after the last line of its mapping, or removes a key's lines. New values are
/// written in block style at the mapping's indentation. Each edit re-parses, so edits compose. Paths go through
/// mappings only (a list is replaced whole).
/// </summary>
internal sealed partial class YamlEditor(string text)
{
    public string Text { get; private set; } = text;

    /// <summary>The value at <paramref name="path"/> as JSON with YAML's scalar types (plain numbers, booleans, null), or null.</summary>
    public JsonNode? Get(params string[] path)
    {
        var node = Parse(Text);
        foreach (var key in path)
        {
            if (node is not MapNode map || map.Find(key) is not { } pair) return null;
            node = pair.Value;
        }
        return node is null ? null : ToJson(node);
    }

    /// <summary>The raw text of the scalar at <paramref name="path"/> (as YAML read it, untyped); null when absent, not a scalar, or null-like.</summary>
    public string? ScalarText(params string[] path)
    {
        var node = Parse(Text);
        foreach (var key in path)
        {
            if (node is not MapNode map || map.Find(key) is not { } pair) return null;
            node = pair.Value;
        }
        if (node is not ScalarNode scalar || scalar.IsAlias) return null;
        if (scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is "" or "~" or "null" or "Null" or "NULL") return null;
        return scalar.Value;
    }

    /// <summary>The whole document as JSON (an empty object for an empty document).</summary>
    public JsonObject GetAll() => Parse(Text) is MapNode map ? (JsonObject)ToJson(map)! : new JsonObject();

    /// <summary>Sets the value at <paramref name="path"/>, creating missing mappings on the way.</summary>
    public void Set(IReadOnlyList<string> path, JsonNode? value)
    {
        if (path.Count == 0) throw new ArgumentException("empty path", nameof(path));
        var root = Parse(Text);
        if (root is not MapNode rootMap)
        {
            if (root is not null && !(root is ScalarNode { IsEmpty: true })) throw new InvalidOperationException("the config is not a YAML mapping");
            Append(path, value);
            return;
        }
        MapNode map = rootMap;
        for (var i = 0; i < path.Count; i++)
        {
            var pair = map.Find(path[i]);
            if (pair is null)
            {
                Insert(map, path[i], Nest(path, i + 1, value), map == rootMap);
                return;
            }
            if (i == path.Count - 1)
            {
                Replace(pair, value);
                return;
            }
            if (pair.Value is not MapNode { Flow: false } inner)
            {
                Replace(pair, Nest(path, i + 1, value));
                return;
            }
            map = inner;
        }
    }

    /// <summary>Removes the key at <paramref name="path"/> with its value; false when it is not there.</summary>
    public bool Remove(IReadOnlyList<string> path)
    {
        var node = Parse(Text);
        Pair? pair = null;
        foreach (var key in path)
        {
            if (node is not MapNode map || map.Find(key) is not { } found) return false;
            pair = found;
            node = found.Value;
        }
        if (pair is null) return false;
        var lineStart = LineStart(pair.Key.Start);
        if (Text.AsSpan(lineStart, pair.Key.Start - lineStart).Trim().Length != 0)
            throw new InvalidOperationException($"'{pair.Key.Value}' is not on a line of its own; edit it by hand");
        var end = LineEnd(ValueEnd(pair));
        if (end < Text.Length) end++; // the newline
        Text = Text.Remove(lineStart, end - lineStart);
        return true;
    }

    // ---- edits --------------------------------------------------------------------------------------------

    private void Replace(Pair pair, JsonNode? value)
    {
        var keyIndent = pair.Key.Start - LineStart(pair.Key.Start);
        // A scalar replacing a scalar keeps whatever follows it on the line (an inline comment).
        if (IsScalar(value) && pair.Value is ScalarNode { IsEmpty: false, Block: false } old)
        {
            Text = Text[..old.Start] + RenderScalar(value) + Text[old.End..];
            return;
        }
        var colon = Text.IndexOf(':', pair.Key.End);
        var start = colon + 1;
        var end = pair.Value is null or ScalarNode { IsEmpty: true } ? start : ValueEnd(pair);
        // A block collection's last line loses its comment with it: it described the content being replaced.
        if (pair.Value is MapNode { Flow: false } or SequenceNode { Flow: false } or ScalarNode { Block: true }) end = LineEnd(end);
        Text = Text[..start] + RenderValue(value, keyIndent + 2) + Text[end..];
    }

    private void Insert(MapNode map, string key, JsonNode? value, bool isRoot)
    {
        if (map.Flow) throw new InvalidOperationException($"cannot add '{key}' to a flow-style mapping; edit it by hand");
        if (isRoot)
        {
            Append([key], value);
            return;
        }
        var first = map.Pairs[0].Key.Start;
        var indent = first - LineStart(first);
        var at = LineEnd(ValueEnd(map.Pairs[^1]));
        Text = Text[..at] + "\n" + new string(' ', indent) + RenderKey(key) + ":" + RenderValue(value, indent + 2) + Text[at..];
    }

    private void Append(IReadOnlyList<string> path, JsonNode? value)
    {
        var body = Text.TrimEnd();
        var line = RenderKey(path[0]) + ":" + RenderValue(Nest(path, 1, value), 2);
        Text = (body.Length == 0 ? "" : body + "\n") + line + "\n";
    }

    private static JsonNode? Nest(IReadOnlyList<string> path, int from, JsonNode? value)
    {
        for (var i = path.Count - 1; i >= from; i--) value = new JsonObject { [path[i]] = value };
        return value;
    }

    private int ValueEnd(Pair pair) => pair.Value is null or ScalarNode { IsEmpty: true } ? pair.Key.End : pair.Value.End;

    private int LineStart(int index) => index == 0 ? 0 : Text.LastIndexOf('\n', index - 1) + 1;

    private int LineEnd(int index)
    {
        var newline = Text.IndexOf('\n', index);
        return newline < 0 ? Text.Length : newline;
    }

    // ---- rendering ---------------------------------------------------------------------------------------

    private static bool IsScalar(JsonNode? value) => value is null or JsonValue;

    /// <summary>What follows <c>key:</c>: <c>" scalar"</c>, <c>" []"</c>, or a newline and a block at <paramref name="indent"/>.</summary>
    internal static string RenderValue(JsonNode? value, int indent) => value switch
    {
        null or JsonValue => " " + RenderScalar(value),
        JsonObject o when o.All(p => p.Value is null) => " {}",
        JsonArray { Count: 0 } => " []",
        _ => "\n" + RenderBlock(value, indent),
    };

    private static string RenderBlock(JsonNode node, int indent)
    {
        var pad = new string(' ', indent);
        var lines = new List<string>();
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                    if (value is not null) lines.Add(pad + RenderKey(key) + ":" + RenderValue(value, indent + 2));
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is JsonObject o && o.Any(p => p.Value is not null))
                    {
                        var inner = RenderBlock(o, indent + 2);
                        lines.Add(pad + "- " + inner[(indent + 2)..]);
                    }
                    else
                    {
                        lines.Add(pad + "- " + (item is null or JsonValue ? RenderScalar(item) : item.ToJsonString()));
                    }
                }
                break;
        }
        return string.Join("\n", lines);
    }

    internal static string RenderScalar(JsonNode? value)
    {
        if (value is null) return "null";
        return value.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => RenderString(value.GetValue<string>()),
            System.Text.Json.JsonValueKind.True => "true",
            System.Text.Json.JsonValueKind.False => "false",
            System.Text.Json.JsonValueKind.Number => value.ToJsonString(),
            _ => "null",
        };
    }

    private static string RenderKey(string key) => RenderString(key);

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
        { "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~" };

    internal static string RenderString(string value)
    {
        if (value.Length > 0 && PlainSafe().IsMatch(value) && !Reserved.Contains(value)
            && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            && !value.Contains(": ", StringComparison.Ordinal) && !value.Contains(" #", StringComparison.Ordinal) && !value.EndsWith(':'))
            return value;
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ': builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: builder.Append(c); break;
            }
        }
        return builder.Append('"').ToString();
    }

    [GeneratedRegex(@"^[A-Za-z0-9_./$+][A-Za-z0-9_./@$+:=* -]*(?<! )$")]
    private static partial Regex PlainSafe();

    // ---- parsing -----------------------------------------------------------------------------------------

    private abstract class Node
    {
        public int Start;
        public int End;
    }

    private sealed class ScalarNode : Node
    {
        public string Value = "";
        public ScalarStyle Style;
        public bool IsAlias;
        public bool IsEmpty => Style is ScalarStyle.Plain or ScalarStyle.Any && Value.Length == 0;
        public bool Block => Style is ScalarStyle.Literal or ScalarStyle.Folded;
    }

    private sealed class MapNode : Node
    {
        public bool Flow;
        public List<Pair> Pairs = [];

        // The last occurrence wins, as when the file is loaded.
        public Pair? Find(string key) => Pairs.LastOrDefault(p => p.Key.Value == key);
    }

    private sealed class SequenceNode : Node
    {
        public bool Flow;
        public List<Node?> Items = [];
    }

    private sealed record Pair(ScalarNode Key, Node? Value);

    private static Node? Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _)) return null;
        return Read(parser, text);
    }

    private static Node? Read(IParser parser, string text)
    {
        var current = parser.Current!;
        switch (current)
        {
            case Scalar scalar:
                parser.MoveNext();
                var end = (int)scalar.End.Index;
                while (end > (int)scalar.Start.Index && char.IsWhiteSpace(text[end - 1])) end--;
                return new ScalarNode { Start = (int)scalar.Start.Index, End = end, Value = scalar.Value, Style = scalar.Style };
            case AnchorAlias alias:
                parser.MoveNext();
                return new ScalarNode { Start = (int)alias.Start.Index, End = (int)alias.End.Index, Value = "*" + alias.Value, Style = ScalarStyle.Plain, IsAlias = true };
            case MappingStart start:
            {
                parser.MoveNext();
                var map = new MapNode { Start = (int)start.Start.Index, Flow = start.Style == MappingStyle.Flow };
                while (parser.Current is not MappingEnd)
                {
                    var key = Read(parser, text) as ScalarNode ?? throw new InvalidOperationException("complex mapping keys are not supported");
                    var value = Read(parser, text);
                    map.Pairs.Add(new Pair(key, value));
                }
                var close = parser.Consume<MappingEnd>();
                map.End = map.Flow || map.Pairs.Count == 0 ? (int)close.End.Index : LastEnd(map.Pairs[^1]);
                return map;
            }
            case SequenceStart start:
            {
                parser.MoveNext();
                var sequence = new SequenceNode { Start = (int)start.Start.Index, Flow = start.Style == SequenceStyle.Flow };
                while (parser.Current is not SequenceEnd) sequence.Items.Add(Read(parser, text));
                var close = parser.Consume<SequenceEnd>();
                sequence.End = sequence.Flow || sequence.Items.Count == 0 ? (int)close.End.Index : sequence.Items[^1]?.End ?? (int)close.Start.Index;
                return sequence;
            }
            default:
                throw new InvalidOperationException($"unexpected YAML event {current.GetType().Name}");
        }
    }

    private static int LastEnd(Pair pair) => pair.Value is null or ScalarNode { IsEmpty: true } ? pair.Key.End : pair.Value.End;

    // ---- YAML -> JSON with types ------------------------------------------------------------------------

    private static JsonNode? ToJson(Node node) => node switch
    {
        MapNode map => new JsonObject(map.Pairs.GroupBy(p => p.Key.Value).Select(g => KeyValuePair.Create(g.Key, g.Last().Value is { } v ? ToJson(v) : null))),
        SequenceNode sequence => new JsonArray([.. sequence.Items.Select(i => i is null ? null : ToJson(i))]),
        ScalarNode scalar => TypedScalar(scalar),
        _ => null,
    };

    private static JsonNode? TypedScalar(ScalarNode scalar)
    {
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)) return JsonValue.Create(scalar.Value);
        var v = scalar.Value;
        if (v.Length == 0 || v is "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        // A number only when it writes back as the same text: 0123, 1.0 or 1e3 stay strings, so rewriting a list around
        // them never changes a key (0123 -> 123) or a header value (1.0 -> 1).
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            && l.ToString(CultureInfo.InvariantCulture) == v) return JsonValue.Create(l);
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            && d.ToString("R", CultureInfo.InvariantCulture) == v) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }
}
