using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Tests.Sdk.Streaming;

/// <summary>
/// One upstream answer per dialect, as its non-streaming body and as the SSE its upstream streams for it: reasoning with
/// signatures, text, tool calls with arguments in fragments, grounding, usage and, where the dialect has them, several
/// choices, redacted reasoning, native parts and images. <see cref="Answer.Events"/> are whole SSE events, each ending
/// with its blank line; the events from <see cref="Answer.TerminalAt"/> on are the upstream's own end of stream.
/// </summary>
internal static class SameAnswers
{
    internal sealed record Answer(Dialect Dialect, string Body, IReadOnlyList<string> Events, int TerminalAt)
    {
        public string Sse => string.Concat(Events);

        /// <summary>The stream cut just before its end.</summary>
        public string CutSse => string.Concat(Events.Take(TerminalAt));

        public override string ToString() => Dialect.ToString();
    }

    public static IEnumerable<Answer> All => [OpenAIChat, Anthropic, OpenAIResponses, Gemini];

    public static Answer For(Dialect dialect) => All.Single(a => a.Dialect == dialect);

    private static string Data(string json) => "data: " + json + "\n\n";

    private static string Named(string name, string json) => "event: " + name + "\n" + Data(json);

    public static readonly Answer OpenAIChat = new(Dialect.OpenAIChat, """
        {"id":"chatcmpl-eq","object":"chat.completion","created":1735689600,"model":"gpt-x","choices":[
          {"index":0,"message":{"role":"assistant","content":"Let me check.","reasoning_content":"Think first.",
            "thinking_blocks":[{"type":"thinking","thinking":"Think first.","signature":"sig-A=="}],
            "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                          {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},
           "finish_reason":"tool_calls","grounding_metadata":{"webSearchQueries":["paris weather"]}},
          {"index":1,"message":{"role":"assistant","content":"Sunny in Paris."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":20,"completion_tokens":15,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":5}}}
        """,
        [
            Data("""{"id":"chatcmpl-eq","object":"chat.completion.chunk","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""}},{"index":1,"delta":{"role":"assistant","content":""}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"reasoning_content":"Think "}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"reasoning_content":"first."}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"thinking_blocks":[{"type":"thinking","thinking":"","signature":"sig-A=="}]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":1,"delta":{"content":"Sunny "}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"content":"Let me check."}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":1,"delta":{"content":"in Paris."}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}},{"index":1,"function":{"arguments":"\"CET\"}"}}]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":1,"delta":{},"finish_reason":"stop"}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls","grounding_metadata":{"webSearchQueries":["paris weather"]}}]}"""),
            Data("""{"id":"chatcmpl-eq","created":1735689600,"model":"gpt-x","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":15,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":5}}}"""),
            Data("[DONE]"),
        ],
        // Cut before choice 0 finishes (choice 1 already has): not every choice ended, and no [DONE].
        TerminalAt: 12);

    public static readonly Answer Anthropic = new(Dialect.Anthropic, """
        {"id":"msg_eq","type":"message","role":"assistant","model":"claude-x","content":[
          {"type":"thinking","thinking":"Let me think.","signature":"EqSig=="},
          {"type":"redacted_thinking","data":"opaque=="},
          {"type":"text","text":"Checking the weather."},
          {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"paris"}},
          {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","days":2}}],
         "stop_reason":"tool_use","stop_sequence":null,
         "usage":{"input_tokens":30,"cache_read_input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":25},
         "grounding_metadata":{"webSearchQueries":["paris"]}}
        """,
        [
            Named("message_start", """{"type":"message_start","message":{"id":"msg_eq","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"cache_read_input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":1}}}"""),
            Named("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"""),
            Named("ping", """{"type":"ping"}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqSig=="}}"""),
            Named("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            Named("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque=="}}"""),
            Named("content_block_stop", """{"type":"content_block_stop","index":1}"""),
            Named("content_block_start", """{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Checking "}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"the weather."}}"""),
            Named("content_block_stop", """{"type":"content_block_stop","index":2}"""),
            Named("content_block_start", """{"type":"content_block_start","index":3,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"query\": "}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"\"paris\"}"}}"""),
            Named("content_block_stop", """{"type":"content_block_stop","index":3}"""),
            Named("content_block_start", """{"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Paris\", "}}"""),
            Named("content_block_delta", """{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"\"days\": 2}"}}"""),
            Named("content_block_stop", """{"type":"content_block_stop","index":4}"""),
            Named("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":25},"grounding_metadata":{"webSearchQueries":["paris"]}}"""),
            Named("message_stop", """{"type":"message_stop"}"""),
        ],
        TerminalAt: 21);

    public static readonly Answer OpenAIResponses = new(Dialect.OpenAIResponses, """
        {"id":"resp_eq","object":"response","created_at":1735689600,"status":"completed","model":"gpt-5","output":[
          {"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan the call."}],"encrypted_content":"enc=="},
          {"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Calling the tool.","annotations":[]}]},
          {"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}],
         "usage":{"input_tokens":40,"input_tokens_details":{"cached_tokens":8},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":6},"total_tokens":60},
         "grounding_metadata":{"webSearchQueries":["paris"]}}
        """,
        [
            Named("response.created", """{"type":"response.created","sequence_number":0,"response":{"id":"resp_eq","object":"response","created_at":1735689600,"status":"in_progress","model":"gpt-5","output":[]}}"""),
            Named("response.output_item.added", """{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}"""),
            Named("response.reasoning_summary_part.added", """{"type":"response.reasoning_summary_part.added","item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}"""),
            Named("response.reasoning_summary_text.delta", """{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Plan "}"""),
            Named("response.reasoning_summary_text.delta", """{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":0,"delta":"the call."}"""),
            Named("response.output_item.done", """{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan the call."}],"encrypted_content":"enc=="}}"""),
            Named("response.output_item.added", """{"type":"response.output_item.added","output_index":1,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}"""),
            Named("response.output_text.delta", """{"type":"response.output_text.delta","item_id":"msg_1","output_index":1,"content_index":0,"delta":"Calling "}"""),
            Named("response.output_text.delta", """{"type":"response.output_text.delta","item_id":"msg_1","output_index":1,"content_index":0,"delta":"the tool."}"""),
            Named("response.output_item.done", """{"type":"response.output_item.done","output_index":1,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Calling the tool.","annotations":[]}]}}"""),
            Named("response.output_item.added", """{"type":"response.output_item.added","output_index":2,"item":{"id":"fc_1","type":"function_call","status":"in_progress","call_id":"call_1","name":"get_weather","arguments":""}}"""),
            Named("response.function_call_arguments.delta", """{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":2,"delta":"{\"city\":"}"""),
            Named("response.function_call_arguments.delta", """{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":2,"delta":"\"Paris\"}"}"""),
            Named("response.output_item.done", """{"type":"response.output_item.done","output_index":2,"item":{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}"""),
            Named("response.completed", """{"type":"response.completed","response":{"id":"resp_eq","object":"response","created_at":1735689600,"status":"completed","model":"gpt-5","output":[{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan the call."}],"encrypted_content":"enc=="},{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Calling the tool.","annotations":[]}]},{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}],"usage":{"input_tokens":40,"input_tokens_details":{"cached_tokens":8},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":6},"total_tokens":60},"grounding_metadata":{"webSearchQueries":["paris"]}}}"""),
        ],
        TerminalAt: 14);

    public static readonly Answer Gemini = new(Dialect.Gemini, """
        {"candidates":[
          {"content":{"role":"model","parts":[
             {"text":"Weighing options.","thought":true,"thoughtSignature":"gSigThought"},
             {"text":"Here is the forecast.","thoughtSignature":"gSigText"},
             {"functionCall":{"id":"fc-1","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"gSigCall"},
             {"executableCode":{"language":"PYTHON","code":"print(1)"}},
             {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},
           "finishReason":"STOP","index":0,"groundingMetadata":{"webSearchQueries":["paris weather"]}},
          {"content":{"role":"model","parts":[{"text":"Second candidate."}]},"finishReason":"MAX_TOKENS","index":1}],
         "usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":30,"thoughtsTokenCount":7,"cachedContentTokenCount":3,"totalTokenCount":49},
         "modelVersion":"gemini-2.5-pro","responseId":"resp-g","createTime":"2025-01-01T00:00:00Z"}
        """,
        [
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"Weighing ","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":12,"totalTokenCount":12},"modelVersion":"gemini-2.5-pro","responseId":"resp-g","createTime":"2025-01-01T00:00:00Z"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"options.","thought":true,"thoughtSignature":"gSigThought"}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"Second "}]},"index":1}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"Here is "}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"the forecast.","thoughtSignature":"gSigText"}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"fc-1","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"gSigCall"}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"print(1)"}}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[{"text":"candidate."}]},"finishReason":"MAX_TOKENS","index":1}],"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
            Data("""{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0,"groundingMetadata":{"webSearchQueries":["paris weather"]}}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":30,"thoughtsTokenCount":7,"cachedContentTokenCount":3,"totalTokenCount":49},"modelVersion":"gemini-2.5-pro","responseId":"resp-g"}"""),
        ],
        // Candidate 1 has finished, candidate 0 has not.
        TerminalAt: 9);
}
