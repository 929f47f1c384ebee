using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace PluginProxy.Host.Scheduling;

/// <summary>
/// Which conversation a request belongs to, for <c>routing.session-affinity</c>, from what clients send today (most
/// specific first): a session header (Claude Code's <c>X-Claude-Code-Session-Id</c>, Codex's <c>session_id</c> /
/// <c>session-id</c>, <c>conversation_id</c>, <c>thread-id</c>); the body's <c>prompt_cache_key</c>, Responses
/// <c>conversation</c>, the session in Claude Code's <c>metadata.user_id</c>, <c>previous_response_id</c>; else a hash of
/// the conversation's first user message, which clients resend unchanged every turn. Reads the raw body once with a
/// <see cref="Utf8JsonReader"/>: no DOM, nothing kept.
/// </summary>
internal static class SessionKeys
{
    private static readonly string[] Headers =
        ["x-claude-code-session-id", "x-session-id", "session_id", "session-id", "conversation_id", "conversation-id", "thread-id", "thread_id"];

    // Body fields in order of preference; the first message hash is the last resort.
    private enum Field { PromptCacheKey, Conversation, UserSession, PreviousResponse, Count }

    /// <summary>The session id, prefixed with where it came from; null when the request carries nothing to go by.</summary>
    public static string? From(IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        foreach (var name in Headers)
            if (headers.TryGetValue(name, out var value) && value.ToString() is { Length: > 0 } id && !string.IsNullOrWhiteSpace(id))
                return "h:" + id.Trim();
        try
        {
            return FromBody(body);
        }
        catch (JsonException)
        {
            return null; // the request reader already answered or will answer the client; no session to keep
        }
    }

    private static string? FromBody(ReadOnlySpan<byte> body)
    {
        var found = new string?[(int)Field.Count];
        string? firstMessage = null;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_cache_key"u8)) found[(int)Field.PromptCacheKey] = ReadString(ref reader);
            else if (reader.ValueTextEquals("conversation"u8)) found[(int)Field.Conversation] = ReadConversation(ref reader);
            else if (reader.ValueTextEquals("previous_response_id"u8)) found[(int)Field.PreviousResponse] = ReadString(ref reader);
            else if (reader.ValueTextEquals("metadata"u8)) found[(int)Field.UserSession] = ReadUserSession(ref reader);
            else if (reader.ValueTextEquals("messages"u8) || reader.ValueTextEquals("input"u8) || reader.ValueTextEquals("contents"u8))
                firstMessage ??= FirstUserMessageHash(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (found[(int)Field.PromptCacheKey] is { } cacheKey) return "k:" + cacheKey;
        if (found[(int)Field.Conversation] is { } conversation) return "c:" + conversation;
        if (found[(int)Field.UserSession] is { } user) return "u:" + user;
        if (found[(int)Field.PreviousResponse] is { } previous) return "r:" + previous;
        return firstMessage is null ? null : "m:" + firstMessage;
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString() is { } s && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;
        reader.Skip();
        return null;
    }

    // Responses: "conversation": "conv_..." or {"id": "conv_..."}.
    private static string? ReadConversation(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString() is { Length: > 0 } s ? s : null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        string? id = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8)) id = ReadString(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return id;
    }

    // Claude Code: metadata.user_id is "user_<hash>_account_<uuid>_session_<uuid>", or (newer) a JSON text with session_id.
    // Without a session part it names a user, not a conversation, so it is not used.
    private static string? ReadUserSession(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        string? userId = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("user_id"u8)) userId = ReadString(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (userId is null) return null;
        var marker = userId.LastIndexOf("_session_", StringComparison.Ordinal);
        if (marker >= 0 && marker + 9 < userId.Length) return userId[(marker + 9)..];
        if (userId.StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(userId);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("session_id", out var s)
                    && s.ValueKind == JsonValueKind.String && s.GetString() is { Length: > 0 } session)
                    return session;
            }
            catch (JsonException)
            {
            }
        }
        return null;
    }

    /// <summary>
    /// A hash of the first user message's text (and of every text inside it), so markers that move between turns, such as
    /// <c>cache_control</c>, do not change it. A Responses <c>input</c> string is that message.
    /// </summary>
    private static string? FirstUserMessageHash(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return Hash([reader.GetString() ?? ""]);
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }
        string? hash = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (hash is not null || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            var texts = new List<string>();
            string? role = null;
            var depth = reader.CurrentDepth;
            string? property = null;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    property = reader.GetString();
                    continue;
                }
                if (reader.TokenType == JsonTokenType.String)
                {
                    if (property == "role" && reader.CurrentDepth == depth + 1) role = reader.GetString();
                    else if (property is "text" or "content") texts.Add(reader.GetString() ?? "");
                }
                property = null;
            }
            // Gemini contents may leave the role out (it means user); other roles are not the conversation's opening.
            if ((role is null or "user") && texts.Count > 0) hash = Hash(texts);
        }
        return hash;
    }

    private static string Hash(List<string> texts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var text in texts)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(text));
            sha.AppendData([0]);
        }
        return Convert.ToHexString(sha.GetHashAndReset(), 0, 16);
    }
}
