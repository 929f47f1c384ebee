using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Abstractions.Upstream;
using PluginProxy.Formats;
using PluginProxy.Formats.Json;
using PluginProxy.Sdk.Failures;
using PluginProxy.Sdk.Streaming;

namespace PluginProxy.Plugins.Claude;

/// <summary>
/// Anthropic Messages: <c>POST {base}/v1/messages</c> and <c>/v1/messages/count_tokens</c>. Claude clients pass through
/// (their body edited only where the account needs it, their answer relayed as it arrives, tool names restored for
/// OAuth); other dialects are encoded, always streamed upstream, and aggregated when the client did not stream.
/// </summary>
internal sealed class ClaudeExecutor : IExecutor
{
    private const int MaxErrorBodyBytes = 64 * 1024;
    private static readonly IDialectCodec Codec = Codecs.For(Dialect.Anthropic);

    // Count-tokens accepts the prompt, not the generation settings.
    private static readonly string[] NotCounted = ["max_tokens", "stream", "metadata", "temperature", "top_p", "top_k", "stop_sequences", "service_tier"];

    /// <summary>Every translated request is streamed upstream (subscription tokens time out long non-streaming answers).</summary>
    public bool StreamsOnly => true;

    public Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken) =>
        StreamAggregator.AggregateAsync(StreamAsync(call, request, cancellationToken), cancellationToken);

    public async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var account = ClaudeAccount.From(call.Credential, call.Settings);
        var body = Codec.EncodeRequest(request, call.UpstreamModel);
        body["stream"] = true;
        var betas = Prepare(call, account, body, ClaudeEndpoint.Messages);
        using var response = await SendAsync(call, account, ClaudeEndpoint.Messages, true, Json(JsonText.SerializeToUtf8(body)), betas, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in SseDecoding.DecodeAsync(stream, Codec.CreateStreamDecoder(), cancellationToken: cancellationToken).ConfigureAwait(false))
            yield return account.IsOAuth && e is ToolCallStarted t && t.Name.StartsWith(ClaudeRequestShaper.ToolPrefix, StringComparison.Ordinal)
                ? new ToolCallStarted(t.Choice, t.Index, t.Id, ClaudeRequestShaper.Unprefix(t.Name), t.Signature, t.SignatureDialect)
                : e;
    }

    public async Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        var account = ClaudeAccount.From(call.Credential, call.Settings);
        var body = Codec.EncodeRequest(request, call.UpstreamModel);
        foreach (var key in NotCounted) body.Remove(key);
        var betas = Prepare(call, account, body, ClaudeEndpoint.CountTokens);
        using var response = await SendAsync(call, account, ClaudeEndpoint.CountTokens, false, Json(JsonText.SerializeToUtf8(body)), betas, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return JsonText.TryParse(text)?["input_tokens"] is JsonValue v && v.TryGetValue<long>(out var n)
            ? n
            : throw new UpstreamException(FailureKind.Transient, 502, "count_tokens answered without input_tokens") { Scope = FailureScope.Request };
    }

    public async Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken cancellationToken)
    {
        var account = ClaudeAccount.From(call.Credential, call.Settings);
        var endpoint = request.Operation is "count_tokens" or "countTokens" ? ClaudeEndpoint.CountTokens : ClaudeEndpoint.Messages;
        var bytes = request.Body;
        var body = ClaudeRequestShaper.TryParse(bytes);
        IReadOnlyList<string> betas;
        if (body is null) betas = ClaudeRequestShaper.MergeBetas(Client(call, "anthropic-beta"), account.IsOAuth, [], null);
        else
        {
            var shaped = ClaudeRequestShaper.Shape(body, endpoint, account, account.Cloak.Applies(Client(call, "user-agent")));
            // Untouched bodies go out byte for byte; edited ones are re-serialized (string values, signatures included, unchanged).
            if (shaped.Changed) bytes = JsonText.SerializeToUtf8(body);
            betas = ClaudeRequestShaper.MergeBetas(Client(call, "anthropic-beta"), account.IsOAuth, shaped.BodyBetas, body);
        }
        var stream = request.Stream && endpoint == ClaudeEndpoint.Messages;
        var response = await SendAsync(call, account, endpoint, stream, Json(bytes), betas, cancellationToken).ConfigureAwait(false);
        try
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in response.Headers)
                if (Relayed(name)) headers[name] = string.Join(",", values);
            var contentType = response.Content.Headers.ContentType?.ToString();
            var upstream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            Stream relayed = upstream;
            if (account.IsOAuth && endpoint == ClaudeEndpoint.Messages)
            {
                if (contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
                    relayed = new LineRewritingStream(upstream, ClaudeResponses.RestoreToolNamesInSseLine);
                else
                {
                    using var buffer = new MemoryStream();
                    await upstream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                    await upstream.DisposeAsync().ConfigureAwait(false);
                    relayed = new MemoryStream(ClaudeResponses.RestoreToolNamesInJson(buffer.ToArray()));
                }
            }
            return new NativeResponse((int)response.StatusCode, contentType, relayed, headers, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Shapes a body the proxy built and returns the <c>anthropic-beta</c> list for it.</summary>
    private static IReadOnlyList<string> Prepare(UpstreamCall call, ClaudeAccount account, JsonObject body, ClaudeEndpoint endpoint)
    {
        var shaped = ClaudeRequestShaper.Shape(body, endpoint, account, account.Cloak.Applies(Client(call, "user-agent")));
        return ClaudeRequestShaper.MergeBetas(Client(call, "anthropic-beta"), account.IsOAuth, shaped.BodyBetas, body);
    }

    private static string? Client(UpstreamCall call, string header) => call.ClientHeaders.TryGetValue(header, out var value) ? value : null;

    // Rate-limit state and request ids help clients (Claude Code shows the unified windows); nothing hop-by-hop or auth-related.
    private static bool Relayed(string name) =>
        name.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("request-id", StringComparison.OrdinalIgnoreCase) || name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase)
        || name.Equals("retry-after", StringComparison.OrdinalIgnoreCase);

    internal static HttpRequestMessage CreateRequest(UpstreamCall call, ClaudeAccount account, ClaudeEndpoint endpoint, bool stream, IReadOnlyList<string> betas)
    {
        var path = endpoint == ClaudeEndpoint.CountTokens ? "/v1/messages/count_tokens?beta=true" : "/v1/messages?beta=true";
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(account.BaseUrl + path));
        var headers = request.Headers;
        foreach (var (name, value) in ClaudeCodeIdentity.Headers) headers.TryAddWithoutValidation(name, ClaudeCodeIdentity.Configured(call.Settings, name) ?? value);
        var userAgent = Client(call, "user-agent");
        headers.TryAddWithoutValidation("User-Agent",
            userAgent?.StartsWith(ClaudeCodeIdentity.ClaudeCodeUserAgentPrefix, StringComparison.OrdinalIgnoreCase) == true
                ? userAgent
                : call.Settings.GetString("user-agent", ClaudeCodeIdentity.UserAgent));
        headers.TryAddWithoutValidation("anthropic-version", Client(call, "anthropic-version") ?? ClaudeCodeIdentity.AnthropicVersion);
        if (betas.Count > 0) headers.TryAddWithoutValidation("anthropic-beta", string.Join(",", betas));
        if (account.UseApiKeyHeader) headers.TryAddWithoutValidation("x-api-key", account.Token);
        else headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Token);
        headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        return request;
    }

    private static async Task<HttpResponseMessage> SendAsync(UpstreamCall call, ClaudeAccount account, ClaudeEndpoint endpoint, bool stream, HttpContent content,
        IReadOnlyList<string> betas, CancellationToken cancellationToken)
    {
        using var request = CreateRequest(call, account, endpoint, stream, betas);
        request.Content = content;
        HttpResponseMessage response;
        try
        {
            response = await call.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw FailureClassifier.FromTransport(e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw FailureClassifier.FromTransport(e);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = await ReadStartAsync(response.Content, cancellationToken).ConfigureAwait(false);
            var failure = ClaudeFailures.Classify((int)response.StatusCode, response.Headers, body, call.Clock);
            // A token count says nothing about the account.
            if (endpoint == ClaudeEndpoint.CountTokens && failure.Scope != FailureScope.Request)
                failure = new UpstreamException(failure.Kind, failure.StatusCode, failure.Message, failure.Body, failure.RetryAfter) { Scope = FailureScope.Request };
            throw failure;
        }
    }

    // Only the start of an error body is kept: enough to classify it.
    private static async Task<string> ReadStartAsync(HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var length = 0;
            while (length < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                length += read;
            }
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw FailureClassifier.FromTransport(e);
        }
    }

    private static HttpContent Json(ReadOnlyMemory<byte> body)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}

/// <summary>Removing the <c>proxy_</c> prefix from tool names in Anthropic answers (OAuth accounts).</summary>
internal static class ClaudeResponses
{
    private static readonly byte[] Marker = Encoding.UTF8.GetBytes("\"" + ClaudeRequestShaper.ToolPrefix);

    /// <summary>An SSE line with a tool_use block start gets the name restored; every other line is kept byte for byte (null).</summary>
    public static byte[]? RestoreToolNamesInSseLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data:"u8) || line.IndexOf(Marker) < 0) return null;
        var json = line[5..];
        JsonObject? data;
        try
        {
            data = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
        if (data?["content_block"] is not JsonObject block || !Restore(block)) return null;
        var output = new List<byte>(line.Length);
        output.AddRange("data: "u8.ToArray());
        output.AddRange(JsonText.SerializeToUtf8(data));
        return [.. output];
    }

    /// <summary>A whole Messages answer with its tool_use names restored; the same bytes when there was nothing to restore.</summary>
    public static byte[] RestoreToolNamesInJson(byte[] body)
    {
        if (body.AsSpan().IndexOf(Marker) < 0) return body;
        JsonObject? message;
        try
        {
            message = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return body;
        }
        var changed = false;
        if (message?["content"] is JsonArray content)
            foreach (var block in content.OfType<JsonObject>()) changed |= Restore(block);
        return changed ? JsonText.SerializeToUtf8(message) : body;
    }

    private static bool Restore(JsonObject block)
    {
        if ((block["type"] as JsonValue)?.GetValue<string>() is not ("tool_use") || block["name"] is not JsonValue v
            || !v.TryGetValue<string>(out var name) || !name.StartsWith(ClaudeRequestShaper.ToolPrefix, StringComparison.Ordinal))
            return false;
        block["name"] = ClaudeRequestShaper.Unprefix(name);
        return true;
    }
}
