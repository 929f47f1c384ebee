using System.Diagnostics;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Where a client field sits (<c>messages[3].content[1]</c>), kept as its pieces and formatted only when an error names
/// it, so a body with no error builds no path string. Two named levels, each optionally indexed, cover every request
/// field; the rest (<c>image_url.url</c>) is the leaf the caller passes to <see cref="Format"/>.
/// </summary>
internal readonly struct FieldPath
{
    private readonly string _name;
    private readonly int _index;
    private readonly string? _child;
    private readonly int _childIndex;

    public FieldPath(string name) : this(name, -1, null, -1) { }

    private FieldPath(string name, int index, string? child, int childIndex)
    {
        _name = name;
        _index = index;
        _child = child;
        _childIndex = childIndex;
    }

    /// <summary>The item at <paramref name="index"/> of the innermost level.</summary>
    public FieldPath this[int index] => _child is null ? new(_name, index, null, -1) : new(_name, _index, _child, index);

    /// <summary>A field of the item this path names (only one level below the root).</summary>
    public FieldPath Child(string child)
    {
        Debug.Assert(_child is null, "FieldPath holds two named levels");
        return new(_name, _index, child, -1);
    }

    public string Format(string? leaf = null)
    {
        var text = _index < 0 ? _name : $"{_name}[{_index}]";
        if (_child is not null) text = _childIndex < 0 ? $"{text}.{_child}" : $"{text}.{_child}[{_childIndex}]";
        return leaf is null ? text : $"{text}.{leaf}";
    }

    public override string ToString() => Format();
}
