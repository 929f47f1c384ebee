using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Abstractions.Upstream;

namespace PluginProxy.Sdk.Streaming;

/// <summary>
/// Builds the <see cref="ChatResponse"/> a stream of canonical events describes, for upstreams that only stream.
/// Deltas of one kind that follow each other join into one part; a signature closes the reasoning it follows; tool
/// calls are kept by choice and index with their id, name and own signature; grounding and usage are last-wins.
/// The stream must end with <see cref="ResponseCompleted"/>: without it the answer may be cut short, and
/// <see cref="ToResponse"/> throws a transient <see cref="UpstreamException"/> (502) rather than return it.
/// Not thread-safe; one per stream.
/// </summary>
public sealed class StreamAggregator
{
    /// <summary>Gemini's key for the signature of a non-reasoning part (a text or image part), as its codec keeps it.</summary>
    internal const string GeminiPartSignatureKey = "gemini.thoughtSignature";

    private readonly SortedDictionary<int, ChoiceBuilder> _choices = [];
    private ResponseStarted? _started;
    private Usage? _usage;

    /// <summary>True once <see cref="ResponseCompleted"/> was added: the stream ended as its upstream meant it to.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Reads a whole stream into one answer; throws when it ends without <see cref="ResponseCompleted"/>.</summary>
    public static async Task<ChatResponse> AggregateAsync(IAsyncEnumerable<StreamEvent> events, CancellationToken cancellationToken)
    {
        var aggregator = new StreamAggregator();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false)) aggregator.Add(e);
        return aggregator.ToResponse();
    }

    /// <summary>Takes the next event. Events after <see cref="ResponseCompleted"/> are ignored.</summary>
    public void Add(StreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        if (IsComplete) return;
        switch (streamEvent)
        {
            case ResponseStarted started:
                _started ??= started;
                break;
            case TextDelta text:
                Choice(text.Choice).AddText(text.Text);
                break;
            case ReasoningDelta reasoning:
                Choice(reasoning.Choice).AddReasoning(reasoning.Text);
                break;
            case ReasoningSignature signature:
                Choice(signature.Choice).AddSignature(signature.Signature, signature.Dialect);
                break;
            case RedactedReasoning redacted:
                Choice(redacted.Choice).Add(new ReasoningPart { RedactedData = redacted.Data });
                break;
            case ToolCallStarted call:
                Choice(call.Choice).StartCall(call);
                break;
            case ToolCallArgumentsDelta arguments:
                Choice(arguments.Choice).AddArguments(arguments.Index, arguments.Fragment);
                break;
            case ImageDelta image:
                Choice(image.Choice).Add(Media(image.MediaType, image.Data));
                break;
            case NativeDelta native:
                Choice(native.Choice).Add(native.Part);
                break;
            case GroundingReported grounding:
                Choice(grounding.Choice).Grounding = grounding.Metadata;
                break;
            case ChoiceFinished finished:
                var choice = Choice(finished.Choice);
                choice.FinishReason = finished.Reason;
                choice.NativeFinishReason = finished.NativeReason;
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case ResponseCompleted:
                IsComplete = true;
                break;
        }
    }

    /// <summary>The answer so far; throws a transient 502 <see cref="UpstreamException"/> unless the stream completed.</summary>
    public ChatResponse ToResponse()
    {
        if (!IsComplete)
            throw SseDecoding.EndedEarly();
        return new ChatResponse
        {
            Id = _started?.Id ?? "",
            Model = _started?.Model ?? "",
            Created = _started?.Created ?? 0,
            Usage = _usage,
            Choices = [.. _choices.Select(c => c.Value.Build(c.Key))],
        };
    }

    private ChoiceBuilder Choice(int index)
    {
        if (!_choices.TryGetValue(index, out var choice)) _choices[index] = choice = new ChoiceBuilder();
        return choice;
    }

    /// <summary>Streams carry every inline medium as an image; documents (a PDF from Gemini) become what non-streamed answers give.</summary>
    private static ContentPart Media(string mediaType, string data) =>
        mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            ? new ImagePart { MediaType = mediaType, Data = data }
            : new DocumentPart { MediaType = mediaType, Data = data };

    private sealed class ChoiceBuilder
    {
        private readonly List<ContentPart> _parts = [];
        private readonly Dictionary<int, (ToolCallPart Part, StringBuilder Arguments)> _calls = [];
        /// <summary>The text of the last part while deltas still join it (a text or reasoning part); set on it when it ends.</summary>
        private StringBuilder? _tail;

        public JsonNode? Grounding { get; set; }
        public FinishReason? FinishReason { get; set; }
        public string? NativeFinishReason { get; set; }

        public void Add(ContentPart part)
        {
            EndTail();
            _parts.Add(part);
        }

        public void AddText(string text)
        {
            // A signed Gemini text part is whole; text after it is a new part, as in a non-streamed answer.
            if (_tail is not null && _parts[^1] is TextPart last && last.Extensions?[GeminiPartSignatureKey] is null)
            {
                _tail.Append(text);
                return;
            }
            Add(new TextPart(""));
            _tail = new StringBuilder(text);
        }

        public void AddReasoning(string text)
        {
            if (_tail is not null && OpenReasoning() is not null)
            {
                _tail.Append(text);
                return;
            }
            Add(new ReasoningPart());
            _tail = new StringBuilder(text);
        }

        /// <summary>
        /// A signature closes the reasoning before it. Gemini also signs text and images: there the signature belongs
        /// to that part, kept where its codec keeps it. Anything else stands alone as a reasoning part with no text.
        /// </summary>
        public void AddSignature(string signature, Dialect dialect)
        {
            if (OpenReasoning() is { } open)
            {
                EndTail();
                open.Signature = signature;
                open.SignatureDialect = dialect;
            }
            else if (dialect == Dialect.Gemini && _parts.Count > 0 && _parts[^1] is TextPart or ImagePart or DocumentPart
                     && _parts[^1].Extensions?[GeminiPartSignatureKey] is null)
            {
                EndTail();
                (_parts[^1].Extensions ??= [])[GeminiPartSignatureKey] = signature;
            }
            else
            {
                Add(new ReasoningPart { Signature = signature, SignatureDialect = dialect });
            }
        }

        public void StartCall(ToolCallStarted call)
        {
            var part = new ToolCallPart { Id = call.Id, Name = call.Name, Signature = call.Signature, SignatureDialect = call.SignatureDialect };
            _calls[call.Index] = (part, new StringBuilder());
            Add(part);
        }

        public void AddArguments(int index, string fragment)
        {
            // Decoders start a call before its arguments; a fragment of an unknown call still keeps its text.
            if (!_calls.TryGetValue(index, out var call))
            {
                call = (new ToolCallPart(), new StringBuilder());
                _calls[index] = call;
                Add(call.Part);
            }
            call.Arguments.Append(fragment);
        }

        public Choice Build(int index)
        {
            EndTail();
            foreach (var (part, arguments) in _calls.Values) part.Arguments = arguments.Length > 0 ? arguments.ToString() : "{}";
            return new Choice
            {
                Index = index,
                Parts = [.. _parts],
                FinishReason = FinishReason,
                NativeFinishReason = NativeFinishReason,
                GroundingMetadata = Grounding,
            };
        }

        private void EndTail()
        {
            if (_tail is null) return;
            switch (_parts[^1])
            {
                case TextPart text:
                    text.Text = _tail.ToString();
                    break;
                case ReasoningPart reasoning:
                    reasoning.Text = _tail.ToString();
                    break;
            }
            _tail = null;
        }

        /// <summary>The last part, when it is reasoning that is still open (not signed, not redacted).</summary>
        private ReasoningPart? OpenReasoning() =>
            _parts.Count > 0 && _parts[^1] is ReasoningPart { Signature: null, RedactedData: null } open ? open : null;
    }
}
