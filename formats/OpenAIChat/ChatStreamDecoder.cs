using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Formats.Json;
using PluginProxy.Formats.Sse;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Upstream <c>chat.completion.chunk</c> SSE to canonical events. Tolerates what OpenAI-compatible servers do:
/// missing ids, <c>reasoning</c> instead of <c>reasoning_content</c>, usage-only chunks or usage on the finish chunk,
/// tool calls whose id/name and argument fragments arrive in separate chunks, parallel calls interleaved by
/// <c>index</c>, servers that reuse one index for several calls (a new id starts a new call), several choices.
/// Canonical streams never interleave calls (block-based encoders could not express it), so a call that starts while
/// the previous call's arguments are not yet complete JSON waits until they are, or until the choice moves on.
/// An <c>{"error":...}</c> chunk throws <see cref="Abstractions.Upstream.UpstreamException"/>.
/// Chunks are read in place from their UTF-8 data (a pooled document, disposed when <see cref="Decode"/> returns):
/// only the strings a chunk keeps and the JSON it copies out (grounding metadata) outlive the call.
/// </summary>
internal sealed class ChatStreamDecoder : IStreamDecoder
{
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    /// <summary>A delta's content events, gathered before they are added (reused per delta).</summary>
    private readonly List<StreamEvent> _content = [];
    private bool _started;
    private bool _completed;
    private bool _sawDone;

    /// <summary><c>[DONE]</c>, or a finish reason on every choice (some compatible servers never send <c>[DONE]</c>).</summary>
    public bool EndedCleanly => _sawDone || (_choices.Count > 0 && _choices.Values.All(c => c.Finished));

    public void Decode(SseEvent sse, List<StreamEvent> output)
    {
        if (sse.IsDone) _sawDone = true;
        if (_completed || sse.IsDone || sse.IsBlank) return;
        // The chunk is read in place: the document is over the reader's buffer and gone when this returns, so only
        // strings and copied JSON leave it.
        using var document = LenientJson.TryParse(sse.Utf8Data);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } chunk) return;
        if (!LenientJson.IsAbsent(LenientJson.Get(chunk, "error"u8))) throw Error(sse.Data);
        if (!_started)
        {
            _started = true;
            output.Add(new ResponseStarted(
                LenientJson.String(LenientJson.Get(chunk, "id"u8)) is { Length: > 0 } id ? id : ChatWire.NewCompletionId("chatcmpl-"),
                LenientJson.String(LenientJson.Get(chunk, "model"u8)) ?? "",
                JsonRead.AsLong(LenientJson.Get(chunk, "created"u8)) ?? ChatWire.Now()));
        }
        if (LenientJson.Get(chunk, "choices"u8) is { ValueKind: JsonValueKind.Array } choices)
        {
            var i = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind == JsonValueKind.Object)
                    DecodeChoice(choice, (int)(JsonRead.AsLong(LenientJson.Get(choice, "index"u8)) ?? i), output);
                i++;
            }
        }
        if (ChatWire.ParseUsage(LenientJson.Get(chunk, "usage"u8)) is { } usage) output.Add(new UsageReported(usage));
    }

    /// <summary>An error chunk is rare: it is read from text into a DOM, as it always was, for the same exception.</summary>
    private static Exception Error(string data) => ChatWire.UpstreamError(JsonText.TryParse(data)!["error"], data);

    public void Complete(List<StreamEvent> output)
    {
        if (_completed) return;
        _completed = true;
        foreach (var (index, state) in _choices)
        {
            if (state.Finished) continue;
            state.StartWaitingCalls(index, output, force: true);
            output.Add(new ChoiceFinished(index, state.Calls.Count > 0 ? FinishReason.ToolCalls : FinishReason.Stop));
        }
        output.Add(ResponseCompleted.Instance);
    }

    private void DecodeChoice(JsonElement choice, int index, List<StreamEvent> output)
    {
        if (!_choices.TryGetValue(index, out var state)) _choices[index] = state = new ChoiceState();
        if (LenientJson.Get(choice, "delta"u8) is { ValueKind: JsonValueKind.Object } delta) DecodeDelta(delta, index, state, output);
        if (LenientJson.Get(choice, "grounding_metadata"u8) is var grounding && !LenientJson.IsAbsent(grounding))
            output.Add(new GroundingReported(index, JsonText.ToNode(grounding)!));
        if (LenientJson.String(LenientJson.Get(choice, "finish_reason"u8)) is { Length: > 0 } reason && !state.Finished)
        {
            state.Finished = true;
            state.StartWaitingCalls(index, output, force: true);
            output.Add(new ChoiceFinished(index, ChatWire.FromWireFinishReason(reason), reason));
        }
    }

    private void DecodeDelta(JsonElement delta, int index, ChoiceState state, List<StreamEvent> output)
    {
        var content = _content;
        content.Clear();
        DecodeContent(delta, index, content);
        // Content after a waiting call means the calls before it are complete.
        if (content.Count > 0) state.StartWaitingCalls(index, output, force: true);
        output.AddRange(content);
        content.Clear();
        if (LenientJson.Get(delta, "tool_calls"u8) is { ValueKind: JsonValueKind.Array } calls)
        {
            var i = 0;
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind == JsonValueKind.Object) state.DecodeToolCall(call, i, index, output);
                i++;
            }
        }
    }

    /// <summary>
    /// Everything in a delta except tool calls: reasoning, signatures, text, refusal, images. Entries of the wrong
    /// shape (a string where an object belongs) are skipped.
    /// </summary>
    private static void DecodeContent(JsonElement delta, int index, List<StreamEvent> output)
    {
        var reasoning = LenientJson.String(LenientJson.Get(delta, "reasoning_content"u8)) ?? LenientJson.String(LenientJson.Get(delta, "reasoning"u8));
        if (LenientJson.Get(delta, "thinking_blocks"u8) is { ValueKind: JsonValueKind.Array } blocks)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                // Block text repeats reasoning_content when both are present; use it only when it is the sole source.
                if (reasoning is null && LenientJson.String(LenientJson.Get(block, "thinking"u8)) is { Length: > 0 } thinking)
                    output.Add(new ReasoningDelta(index, thinking));
                if (LenientJson.String(LenientJson.Get(block, "signature"u8)) is { Length: > 0 } signature)
                    output.Add(new ReasoningSignature(index, signature, Dialect.OpenAIChat));
            }
        }
        if (!string.IsNullOrEmpty(reasoning)) output.Add(new ReasoningDelta(index, reasoning));
        var content = LenientJson.Get(delta, "content"u8);
        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in content.EnumerateArray())
            {
                if (LenientJson.String(LenientJson.Get(item, "text"u8)) is { Length: > 0 } itemText) output.Add(new TextDelta(index, itemText));
            }
        }
        else if (LenientJson.String(content) is { Length: > 0 } text)
        {
            output.Add(new TextDelta(index, text));
        }
        // A refusal is the text the user gets instead of an answer; canonical streams have no separate channel for it.
        if (LenientJson.String(LenientJson.Get(delta, "refusal"u8)) is { Length: > 0 } refusal) output.Add(new TextDelta(index, refusal));
        if (LenientJson.Get(delta, "images"u8) is { ValueKind: JsonValueKind.Array } images)
        {
            foreach (var image in images.EnumerateArray())
            {
                if (LenientJson.String(LenientJson.Get(LenientJson.Get(image, "image_url"u8), "url"u8)) is { } url
                    && DataUrl.TryParse(url, out var mediaType, out var data))
                    output.Add(new ImageDelta(index, mediaType, data));
            }
        }
    }

    private sealed class ChoiceState
    {
        public bool Finished { get; set; }

        /// <summary>Calls in canonical order; the canonical index is the position in this list.</summary>
        public List<ToolCallState> Calls { get; } = [];

        /// <summary>The call started last: its fragments go out as they arrive.</summary>
        private ToolCallState? _current;

        public void DecodeToolCall(JsonElement call, int position, int choice, List<StreamEvent> output)
        {
            var wireIndex = (int)(JsonRead.AsLong(LenientJson.Get(call, "index"u8)) ?? position);
            var id = LenientJson.String(LenientJson.Get(call, "id"u8)) is { Length: > 0 } callId ? callId : null;
            var state = Calls.FindLast(c => c.WireIndex == wireIndex);
            if (state is null || (id is not null && state.Id is not null && id != state.Id))
            {
                state = new ToolCallState(wireIndex, Calls.Count);
                Calls.Add(state);
            }
            state.Id ??= id;
            // A function that is not an object reads as absent: its name and arguments as missing.
            var function = LenientJson.Get(call, "function"u8);
            if (!state.Started && LenientJson.String(LenientJson.Get(function, "name"u8)) is { Length: > 0 } name) state.Name ??= name;
            var arguments = LenientJson.Get(function, "arguments"u8);
            var fragment = arguments.ValueKind == JsonValueKind.Object ? JsonText.Serialize(arguments) : LenientJson.String(arguments);
            if (!string.IsNullOrEmpty(fragment)) state.AddArguments(choice, fragment, output);
            StartWaitingCalls(choice, output, force: false);
        }

        /// <summary>
        /// Starts waiting calls in order, each once its name is known and the call before it has complete arguments.
        /// With <paramref name="force"/> (the choice moved on) all of them start; a call whose name never arrived still
        /// reaches the client with the arguments it had.
        /// </summary>
        public void StartWaitingCalls(int choice, List<StreamEvent> output, bool force)
        {
            foreach (var call in Calls)
            {
                if (call.Started) continue;
                if (!force && (call.Name is null || _current?.HasCompleteArguments() == false)) return;
                call.Start(choice, output);
                _current = call;
            }
        }
    }

    private sealed class ToolCallState(int wireIndex, int index)
    {
        private readonly StringBuilder _arguments = new();
        private readonly ObjectScanner _scanner = new();

        public int WireIndex { get; } = wireIndex;
        public string? Id { get; set; }
        public string? Name { get; set; }
        public bool Started { get; private set; }

        public void Start(int choice, List<StreamEvent> output)
        {
            Started = true;
            Id ??= ChatWire.NewToolCallId();
            output.Add(new ToolCallStarted(choice, index, Id, Name ?? ""));
            if (_arguments.Length > 0) output.Add(new ToolCallArgumentsDelta(choice, index, _arguments.ToString()));
        }

        /// <summary>Fragments stream through once the call has started; until then they wait.</summary>
        public void AddArguments(int choice, string fragment, List<StreamEvent> output)
        {
            _arguments.Append(fragment);
            _scanner.Feed(fragment, _arguments);
            if (Started) output.Add(new ToolCallArgumentsDelta(choice, index, fragment));
        }

        /// <summary>Whether the arguments so far are one whole JSON object.</summary>
        public bool HasCompleteArguments() => _scanner.Complete;
    }

    /// <summary>
    /// Tells, fragment by fragment, whether a growing text is one complete JSON object, looking at each character once:
    /// it follows string and nesting state, and only when the outer object closes does it parse the whole text once to
    /// confirm (so malformed arguments never count as complete, as with a full parse on every fragment).
    /// </summary>
    internal sealed class ObjectScanner
    {
        private enum State
        {
            /// <summary>Only whitespace so far.</summary>
            Before,
            Inside,
            /// <summary>The outer object closed and the text parsed; only whitespace may follow.</summary>
            Closed,
            /// <summary>Can never become one JSON object, whatever follows.</summary>
            Never,
        }

        private State _state;
        private int _depth;
        private bool _inString;
        private bool _escaped;

        public bool Complete => _state == State.Closed;

        /// <param name="fragment">The new text.</param>
        /// <param name="whole">Everything so far, <paramref name="fragment"/> included (parsed once, when the object closes).</param>
        public void Feed(string fragment, StringBuilder whole)
        {
            foreach (var c in fragment)
            {
                switch (_state)
                {
                    case State.Never:
                        return;
                    case State.Closed:
                        if (!IsWhitespace(c)) _state = State.Never;
                        continue;
                    case State.Before:
                        if (IsWhitespace(c)) continue;
                        if (c != '{')
                        {
                            _state = State.Never;
                            return;
                        }
                        _state = State.Inside;
                        _depth = 1;
                        continue;
                }
                if (_inString)
                {
                    if (_escaped) _escaped = false;
                    else if (c == '\\') _escaped = true;
                    else if (c == '"') _inString = false;
                    continue;
                }
                switch (c)
                {
                    case '"':
                        _inString = true;
                        break;
                    case '{' or '[':
                        _depth++;
                        break;
                    case '}' or ']':
                        if (--_depth == 0)
                            _state = JsonText.TryParse(whole.ToString()) is JsonObject ? State.Closed : State.Never;
                        break;
                }
            }
        }

        // JSON whitespace, which is all a parser accepts around a value.
        private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r';
    }
}
