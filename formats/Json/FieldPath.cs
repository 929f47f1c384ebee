using System.Diagnostics;

namespace PluginProxy.Formats.Json;

/// <summary>
/// Where a client field sits (<c>messages[3].content[1]</c>), kept as its pieces and formatted only when an error names
/// it, so a body with no error builds no path string. A root and one member below it, each optionally indexed, cover
/// the request fields of the Chat and Responses decoders; the last key is the leaf passed to <see cref="Format"/>.
/// </summary>
internal readonly struct FieldPath(string root, int index = -1, string? member = null, int memberIndex = -1)
{
    /// <summary>The body itself: a field's path is its key alone.</summary>
    public static FieldPath Body => new("");

    /// <summary>The item at <paramref name="i"/> of the innermost level.</summary>
    public FieldPath this[int i] => member is null ? new(root, i) : new(root, index, member, i);

    /// <summary>A field of the item this path names (one level below the root).</summary>
    public FieldPath Member(string name)
    {
        Debug.Assert(member is null, "FieldPath holds two named levels");
        return new(root, index, name);
    }

    /// <summary>This path, or the path of its field <paramref name="leaf"/>.</summary>
    public string Format(string? leaf = null)
    {
        var self = ToString();
        return leaf is null ? self : self.Length == 0 ? leaf : self + "." + leaf;
    }

    public override string ToString()
    {
        var path = index >= 0 ? $"{root}[{index}]" : root;
        if (member is not null) path += "." + member;
        if (memberIndex >= 0) path += $"[{memberIndex}]";
        return path;
    }
}
