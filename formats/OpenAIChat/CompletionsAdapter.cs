using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>
/// Legacy text completions (<c>POST /v1/completions</c>) served through chat: the prompt becomes one user message,
/// and answers are written as <c>text_completion</c> objects. Legacy-only fields (<c>suffix</c>, <c>echo</c>,
/// <c>best_of</c>, integer <c>logprobs</c>) have no chat equivalent and are ignored.
/// </summary>
public static class CompletionsAdapter
{
    private const string DefaultPrompt = "Complete this:";

    public static ChatRequest DecodeRequest(JsonObject body)
    {
        var request = new ChatRequest
        {
            Model = JsonRead.OptionalString(body["model"], "model") ?? "",
            Stream = JsonRead.OptionalBool(body["stream"], "stream") ?? false,
            IncludeUsage = JsonRead.OptionalBool(JsonRead.OptionalObject(body["stream_options"], "stream_options")?["include_usage"], "stream_options.include_usage") ?? false,
            User = JsonRead.OptionalString(body["user"], "user"),
        };
        var prompt = DecodePrompt(body["prompt"]);
        request.Messages.Add(new Message(Role.User, new TextPart(prompt.Length > 0 ? prompt : DefaultPrompt)));
        var sampling = request.Sampling;
        sampling.MaxOutputTokens = JsonRead.OptionalInt32(body["max_tokens"], "max_tokens");
        sampling.Temperature = JsonRead.OptionalNumber(body["temperature"], "temperature");
        sampling.TopP = JsonRead.OptionalNumber(body["top_p"], "top_p");
        sampling.FrequencyPenalty = JsonRead.OptionalNumber(body["frequency_penalty"], "frequency_penalty");
        sampling.PresencePenalty = JsonRead.OptionalNumber(body["presence_penalty"], "presence_penalty");
        sampling.StopSequences = ChatRequestDecoder.DecodeStop(body["stop"]);
        sampling.CandidateCount = JsonRead.OptionalInt32(body["n"], "n");
        sampling.Seed = JsonRead.OptionalInteger(body["seed"], "seed");
        return request;
    }

    /// <summary>A string, or an array of strings joined by newlines; token-id prompts cannot be served through chat.</summary>
    private static string DecodePrompt(JsonNode? prompt)
    {
        if (prompt is not JsonArray array) return JsonRead.OptionalString(prompt, "prompt") ?? "";
        var parts = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            if (JsonRead.AsString(array[i]) is not { } text)
                throw new RequestFormatException($"'prompt[{i}]' must be a string (token-id prompts are not supported)");
            parts.Add(text);
        }
        return string.Join("\n", parts);
    }

    public static JsonObject EncodeResponse(ChatResponse response, ChatRequest request)
    {
        var choices = new JsonArray();
        foreach (var choice in response.Choices)
        {
            var text = new StringBuilder();
            foreach (var part in choice.Parts.OfType<TextPart>()) text.Append(part.Text);
            choices.Add(new JsonObject
            {
                ["index"] = choice.Index,
                ["text"] = text.ToString(),
                ["finish_reason"] = ChatWire.ToWireFinishReason(choice.FinishReason, calledTools: false),
                ["logprobs"] = null,
            });
        }
        var body = new JsonObject
        {
            ["id"] = response.Id.Length > 0 ? response.Id : ChatWire.NewCompletionId("cmpl-"),
            ["object"] = "text_completion",
            ["created"] = response.Created > 0 ? response.Created : ChatWire.Now(),
            ["model"] = response.Model.Length > 0 ? response.Model : request.Model,
            ["choices"] = choices,
        };
        if (response.Usage is { } usage) body["usage"] = ChatWire.UsageJson(usage);
        return body;
    }

    public static IStreamEncoder CreateStreamEncoder(ChatRequest request) => new CompletionsStreamEncoder(request);
}

/// <summary><c>text_completion</c> chunks: one per text delta, a finish chunk per choice, optional usage, <c>[DONE]</c>.</summary>
internal sealed class CompletionsStreamEncoder(ChatRequest request) : IStreamEncoder
{
    private readonly ChunkWriter _chunks = new("text_completion", "cmpl-", request.Model);
    private readonly SortedDictionary<int, bool> _finished = [];
    private Usage? _usage;
    private bool _closed;

    public string ContentType => "text/event-stream";

    public void Encode(StreamEvent streamEvent, IBufferWriter<byte> output)
    {
        if (_closed) return;
        switch (streamEvent)
        {
            case ResponseStarted started:
                if (!_chunks.HasHeader) _chunks.Start(started);
                break;
            case TextDelta { Text.Length: > 0 } text:
                _finished.TryAdd(text.Choice, false);
                WriteChoice(output, text.Choice, text.Text, null);
                break;
            case ChoiceFinished finished when !_finished.GetValueOrDefault(finished.Choice):
                _finished[finished.Choice] = true;
                WriteChoice(output, finished.Choice, "", ChatWire.ToWireFinishReason(finished.Reason, calledTools: false));
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case ResponseCompleted:
                _finished.TryAdd(0, false);
                foreach (var (choice, done) in _finished)
                {
                    if (!done) WriteChoice(output, choice, "", "stop");
                }
                if (request.IncludeUsage && _usage is not null) _chunks.WriteUsage(output, _usage);
                ChunkWriter.WriteDone(output);
                _closed = true;
                break;
        }
    }

    public void EncodeError(int status, string message, IBufferWriter<byte> output)
    {
        if (_closed) return;
        ChunkWriter.WriteError(output, status, message);
        _closed = true;
    }

    private void WriteChoice(IBufferWriter<byte> output, int choice, string text, string? finishReason)
    {
        var json = _chunks.Begin(output);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", choice);
        json.WriteString("text", text);
        if (finishReason is null) json.WriteNull("finish_reason");
        else json.WriteString("finish_reason", finishReason);
        json.WriteNull("logprobs");
        json.WriteEndObject();
        json.WriteEndArray();
        _chunks.End(output);
    }
}
