"""Fake upstreams for cli-smoke.sh. Usage: python3 fake_openai.py PORTS_FILE LOG_FILE MARKER_PATH MARKER_TOKEN

Binds two free loopback ports and writes "<upstream port> <trap port>" to PORTS_FILE once both listen.

Upstream: one port serving four wire formats, chosen by path, streaming or not as the request asks:
  POST .../chat/completions                            OpenAI chat completions (SSE chunks, [DONE])
  POST .../v1/messages[?beta=true]                     Anthropic Messages (message_start, content_block_*, message_delta,
                                                       message_stop; tool_use arguments as input_json_delta)
  POST .../v1beta/models/{m}:generateContent           Gemini (candidates with text/functionCall parts, finishReason,
       .../v1beta/models/{m}:streamGenerateContent      usageMetadata; the model is taken from the path)
  POST .../responses                                   OpenAI Responses as Codex expects it (response.created,
                                                       output_item.added/done, output_text.delta, response.completed)
  count_tokens / :countTokens get a fixed count. The same tool loop runs for every format:
  - a request that offers tools and carries no tool result yet gets one tool call that reads MARKER_PATH
    (the tool is picked from the request's own tool list, its argument names from the tool's schema);
  - a request that carries a tool result (chat role "tool", Anthropic tool_result, Gemini functionResponse,
    Responses function_call_output) answers "E2E-OK <model>" if MARKER_TOKEN is in a tool result, otherwise
    "E2E-NO-MARKER <model>: <start of the tool results>";
  - a request without tools answers "E2E-OK <model> (no tools)" (clients' side requests: titles, quota checks).
  Each request is appended to LOG_FILE as one JSON line (format, model, stream, roles, tool names, tool results, reply).

Trap (set as HTTP(S)_PROXY for the clients): answers every request, CONNECT included, with 403 and logs the target,
so a client that tries to reach the internet fails at once instead of hanging, and the script can name the host."""
import json, os, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ports_file, log_file, marker_path, marker_token = sys.argv[1:5]
log_lock = threading.Lock()

def log(entry):
    with log_lock, open(log_file, "a") as f:
        f.write(json.dumps(entry) + "\n")

# Tools that read a file or run a command, in order of preference; each client exposes a few of these.
READ_TOOLS = ["Read", "read_file"]
SHELL_TOOLS = ["shell", "shell_command", "exec_command", "Bash", "run_shell_command", "local_shell"]

def tool_name(t):
    return (t.get("function") or {}).get("name") or t.get("name") or ""

def tool_params(t):  # OpenAI chat, Responses, Anthropic (input_schema), Gemini (parameters or parametersJsonSchema)
    schema = (t.get("function") or {}).get("parameters") or t.get("parameters") or t.get("input_schema") \
        or t.get("parametersJsonSchema") or {}
    return schema.get("properties") or {}

def plan_tool_call(tools):
    """(name, arguments) of a call that makes the client read the marker file, or None."""
    by_name = {tool_name(t): t for t in tools}
    for name in READ_TOOLS:
        if name in by_name:
            props = tool_params(by_name[name])
            key = next((k for k in ("file_path", "absolute_path", "path") if k in props), "file_path")
            return name, {key: marker_path}
    for name in SHELL_TOOLS:
        if name in by_name:
            props = tool_params(by_name[name])
            if "cmd" in props:
                return name, {"cmd": "cat " + marker_path}
            if (props.get("command") or {}).get("type") == "array":
                return name, {"command": ["cat", marker_path]}
            return name, {"command": "cat " + marker_path}
    return None

def text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else json.dumps(content)

def results_of(body, kind):
    """(roles, tool names, tool result texts) of a request in any of the four dialects."""
    if kind == "anthropic":
        messages = body.get("messages") or []
        results = [text_of(b.get("content")) for m in messages if isinstance(m.get("content"), list)
                   for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
        return [m.get("role") for m in messages], body.get("tools") or [], results
    if kind == "gemini":
        contents = body.get("contents") or []
        results = [json.dumps(p["functionResponse"].get("response")) for c in contents for p in c.get("parts") or []
                   if isinstance(p, dict) and "functionResponse" in p]
        tools = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
        return [c.get("role") for c in contents], tools, results
    if kind == "responses":
        items = body.get("input") or []
        items = [{"type": "message", "role": "user", "content": items}] if isinstance(items, str) else items
        results = [text_of(i.get("output")) for i in items if i.get("type") == "function_call_output"]
        tools = [t for t in body.get("tools") or [] if t.get("type") in ("function", None)]
        return [i.get("role") or i.get("type") for i in items], tools, results
    messages = body.get("messages") or []
    return ([m.get("role") for m in messages], body.get("tools") or [],
            [text_of(m.get("content")) for m in messages if m.get("role") == "tool"])

class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def do_GET(self):  # a model listing, should a client or the proxy ask
        self.reply_json({"object": "list", "data": []})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            return self.reply_json({"input_tokens": 10})
        if path.endswith(":countTokens"):
            return self.reply_json({"totalTokens": 10})
        gemini = re.match(r".*/v1beta/models/([^/:]+):(\w+)$", path)
        if gemini:
            kind, model, stream = "gemini", gemini.group(1), gemini.group(2) == "streamGenerateContent"
        else:
            kind = "anthropic" if path.endswith("/v1/messages") else "responses" if path.endswith("/responses") else "chat"
            model, stream = body.get("model"), bool(body.get("stream"))
        roles, tools, results = results_of(body, kind)
        call = None
        if results:
            text = f"E2E-OK {model}" if any(marker_token in r for r in results) \
                else f"E2E-NO-MARKER {model}: " + " | ".join(r[:200] for r in results)
        elif tools:
            call = plan_tool_call(tools)
            text = None if call else f"E2E-NO-TOOL {model}: none of " + ",".join(sorted(map(tool_name, tools)))[:300]
        else:
            text = f"E2E-OK {model} (no tools)"
        log({"path": self.path, "kind": kind, "model": model, "stream": stream, "roles": roles,
             "tools": sorted(map(tool_name, tools)), "tool_results": [r[:200] for r in results], "reply": text,
             "call": call and call[0]})
        getattr(self, "answer_" + kind)(model, stream, text, call)

    # --- OpenAI chat completions ---------------------------------------------------------------------------------
    def answer_chat(self, model, stream, text, call):
        finish = "tool_calls" if call else "stop"
        tool_calls = [{"index": 0, "id": "call_e2e_1", "type": "function",
                       "function": {"name": call[0], "arguments": json.dumps(call[1])}}] if call else None
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        if not stream:
            message = {"role": "assistant", "content": text}
            if tool_calls:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in tool_calls]
            self.reply_json({"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": model,
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
            return
        self.start_sse()
        base = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1, "model": model}
        def chunk(delta, finish_reason=None):
            self.send({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})
        chunk({"role": "assistant", "content": ""})
        for piece in pieces(text):
            chunk({"content": piece})
        if tool_calls:
            chunk({"tool_calls": tool_calls})
        chunk({}, finish)
        self.send({**base, "choices": [], "usage": usage})
        self.send("[DONE]")
        self.end_sse()

    # --- Anthropic Messages ----------------------------------------------------------------------------------------
    def answer_anthropic(self, model, stream, text, call):
        blocks = ([{"type": "text", "text": text}] if text else []) + \
                 ([{"type": "tool_use", "id": "toolu_e2e_1", "name": call[0], "input": call[1]}] if call else [])
        stop = "tool_use" if call else "end_turn"
        message = {"id": "msg_e2e", "type": "message", "role": "assistant", "model": model, "content": blocks,
                   "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 3}}
        if not stream:
            return self.reply_json(message)
        self.start_sse()
        ev = lambda name, obj: self.send({"type": name, **obj}, event=name)
        ev("message_start", {"message": {**message, "content": [], "stop_reason": None,
                                         "usage": {"input_tokens": 5, "output_tokens": 1}}})
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                ev("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}})
                for piece in pieces(text):
                    ev("content_block_delta", {"index": i, "delta": {"type": "text_delta", "text": piece}})
            else:
                ev("content_block_start", {"index": i, "content_block": {**block, "input": {}}})
                args = json.dumps(call[1])
                for j in range(0, len(args), 16):
                    ev("content_block_delta", {"index": i, "delta": {"type": "input_json_delta",
                                                                     "partial_json": args[j:j + 16]}})
            ev("content_block_stop", {"index": i})
        ev("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 3}})
        ev("message_stop", {})
        self.end_sse()

    # --- Gemini generateContent ------------------------------------------------------------------------------------
    def answer_gemini(self, model, stream, text, call):
        parts = ([{"text": text}] if text else []) + \
                ([{"functionCall": {"name": call[0], "args": call[1]}}] if call else [])
        usage = {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}
        def response(ps, finish=None, with_usage=False):
            candidate = {"content": {"role": "model", "parts": ps}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            out = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-e2e"}
            if with_usage:
                out["usageMetadata"] = usage
            return out
        if not stream:
            return self.reply_json(response(parts, "STOP", True))
        self.start_sse()
        chunks = [[{"text": piece}] for piece in pieces(text)] + ([parts[-1:]] if call else [])
        for ps in chunks[:-1]:
            self.send(response(ps))
        self.send(response(chunks[-1], "STOP", True))  # the last part comes with the finish reason, as Gemini does
        self.end_sse()

    # --- OpenAI Responses (Codex) ----------------------------------------------------------------------------------
    def answer_responses(self, model, stream, text, call):
        usage = {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 3,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 8}
        items = []
        if text:
            items.append({"type": "message", "id": "msg_e2e", "status": "completed", "role": "assistant",
                          "content": [{"type": "output_text", "text": text, "annotations": []}]})
        if call:
            items.append({"type": "function_call", "id": "fc_e2e", "status": "completed", "call_id": "call_e2e_1",
                          "name": call[0], "arguments": json.dumps(call[1])})
        def resp(status, output, with_usage=False):
            return {"id": "resp_e2e", "object": "response", "created_at": 1, "status": status, "model": model,
                    "output": output, "usage": usage if with_usage else None}
        if not stream:
            return self.reply_json(resp("completed", items, True))
        self.start_sse()
        seq = iter(range(1000))
        ev = lambda name, obj: self.send({"type": name, "sequence_number": next(seq), **obj}, event=name)
        ev("response.created", {"response": resp("in_progress", [])})
        ev("response.in_progress", {"response": resp("in_progress", [])})
        for i, item in enumerate(items):
            if item["type"] == "message":
                ev("response.output_item.added", {"output_index": i, "item": {**item, "status": "in_progress",
                                                                              "content": []}})
                part = {"type": "output_text", "text": "", "annotations": []}
                ids = {"item_id": item["id"], "output_index": i, "content_index": 0}
                ev("response.content_part.added", {**ids, "part": part})
                for piece in pieces(text):
                    ev("response.output_text.delta", {**ids, "delta": piece})
                ev("response.output_text.done", {**ids, "text": text})
                ev("response.content_part.done", {**ids, "part": {**part, "text": text}})
            else:
                ev("response.output_item.added", {"output_index": i, "item": {**item, "status": "in_progress",
                                                                              "arguments": ""}})
                ids = {"item_id": item["id"], "output_index": i}
                ev("response.function_call_arguments.delta", {**ids, "delta": item["arguments"]})
                ev("response.function_call_arguments.done", {**ids, "arguments": item["arguments"]})
            ev("response.output_item.done", {"output_index": i, "item": item})
        ev("response.completed", {"response": resp("completed", items, True)})
        self.end_sse()

    # --- framing ---------------------------------------------------------------------------------------------------
    def start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send(self, obj, event=None):
        data = ("data: " + (obj if isinstance(obj, str) else json.dumps(obj)) + "\n\n").encode()
        if event:
            data = f"event: {event}\n".encode() + data
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reply_json(self, obj):
        out = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

def pieces(text):
    return [text[i:i + 8] for i in range(0, len(text or ""), 8)]

class Trap(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def refuse(self):
        log({"outbound": f"{self.command} {self.path}", "user_agent": self.headers.get("User-Agent")})
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
    do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = refuse

servers = [ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (Upstream, Trap)]
for s in servers:
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(ports_file + ".tmp", "w") as f:
    f.write(" ".join(str(s.server_address[1]) for s in servers) + "\n")
os.replace(ports_file + ".tmp", ports_file)
threading.Event().wait()
