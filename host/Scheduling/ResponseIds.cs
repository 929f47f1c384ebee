using System.Text.Json;

namespace PluginProxy.Host.Scheduling;

/// <summary>
/// Response ids of Responses answers, for <c>previous_response_id</c> chains under session affinity: a client that sends
/// only <c>previous_response_id</c> names a new id every turn, so the proxy learns the ids it hands out and maps each to
/// the conversation it served (<see cref="Scheduler.ResponseChains"/>).
/// </summary>
internal static class ResponseIds
{
    /// <summary>The id a Responses client sees for an answer whose upstream id is <paramref name="id"/> (as the Responses encoder spells it).</summary>
    public static string Normalize(string? id) =>
        string.IsNullOrEmpty(id) ? "resp_" + Guid.NewGuid().ToString("N")
        : id.StartsWith("resp_", StringComparison.Ordinal) ? id
        : "resp_" + id;
}

/// <summary>
/// Finds the response id in a passthrough Responses answer while its bytes are relayed: the <c>response.id</c> of the
/// first SSE event that carries a response object (<c>response.created</c>), or the top-level <c>id</c> of a JSON body.
/// Stops looking once found; keeps at most <see cref="MaxKept"/> bytes; never throws.
/// </summary>
internal sealed class ResponseIdScanner(bool sse)
{
    private const int MaxKept = 256 * 1024;

    private byte[] _carry = [];
    private int _carried;
    private bool _gaveUp;

    public string? Id { get; private set; }

    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (Id is not null || _gaveUp) return;
        if (!sse)
        {
            // The id is usually the body's first property: read what has arrived so far.
            Append(chunk);
            if (!_gaveUp) Id = TopLevelId(_carry.AsSpan(0, _carried), "id"u8, nested: false);
            return;
        }
        while (!chunk.IsEmpty && Id is null && !_gaveUp)
        {
            var newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Append(chunk);
                return;
            }
            if (_carried == 0) Line(chunk[..newline]);
            else
            {
                Append(chunk[..newline]);
                if (!_gaveUp) Line(_carry.AsSpan(0, _carried));
                _carried = 0;
            }
            chunk = chunk[(newline + 1)..];
        }
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("data:"u8) && line.IndexOf("\"response\""u8) >= 0) Id = TopLevelId(line[5..], "response"u8, nested: true);
    }

    // Top-level "id" (nested: false), or "id" inside the top-level object property (nested: true). Reads only as far as needed.
    private static string? TopLevelId(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property, bool nested)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(property);
                if (!reader.Read()) return null;
                if (match && !nested) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (match && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isId = reader.ValueTextEquals("id"u8);
                        if (!reader.Read()) return null;
                        if (isId) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        if (!reader.TrySkip()) return null;
                    }
                    return null;
                }
                if (!reader.TrySkip()) return null;
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_carried + bytes.Length > MaxKept)
        {
            _gaveUp = true; // an answer or event this large is not worth keeping in memory for an id
            _carry = [];
            _carried = 0;
            return;
        }
        if (_carried + bytes.Length > _carry.Length) Array.Resize(ref _carry, Math.Max(Math.Max(1024, _carry.Length * 2), _carried + bytes.Length));
        bytes.CopyTo(_carry.AsSpan(_carried));
        _carried += bytes.Length;
    }
}
