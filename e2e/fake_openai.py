"""Fake upstreams for cli-smoke.sh. Usage: python3 fake_openai.py PORTS_FILE LOG_FILE MARKER_PATH MARKER_TOKEN

Binds two free loopback ports and writes "<upstream port> <trap port>" to PORTS_FILE once both listen.

Upstream (an OpenAI-compatible chat completions server, streaming or not):
  - a request that offers tools and carries no tool result yet gets one tool call that reads MARKER_PATH
    (the tool is picked from the request's own tool list, its argument names from the tool's schema);
  - a request that carries a tool result answers "E2E-OK <model>" if MARKER_TOKEN is in a tool result, otherwise
    "E2E-NO-MARKER <model>: <start of the tool results>";
  - a request without tools answers "E2E-OK <model> (no tools)" (clients' side requests: titles, quota checks).
  Each request is appended to LOG_FILE as one JSON line (model, stream, roles, tool names, tool results, reply).

Trap (set as HTTP(S)_PROXY for the clients): answers every request, CONNECT included, with 403 and logs the target,
so a client that tries to reach the internet fails at once instead of hanging, and the script can name the host."""
import json, os, sys, threading
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

def tool_params(t):
    return ((t.get("function") or {}).get("parameters") or t.get("parameters") or {}).get("properties") or {}

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

class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def do_GET(self):  # a model listing, should a client or the proxy ask
        self.reply_json({"object": "list", "data": []})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        model = body.get("model")
        messages = body.get("messages") or []
        tools = body.get("tools") or []
        results = [text_of(m.get("content")) for m in messages if m.get("role") == "tool"]
        call = None
        if results:
            text = f"E2E-OK {model}" if any(marker_token in r for r in results) \
                else f"E2E-NO-MARKER {model}: " + " | ".join(r[:200] for r in results)
        elif tools:
            call = plan_tool_call(tools)
            text = None if call else f"E2E-NO-TOOL {model}: none of " + ",".join(sorted(map(tool_name, tools)))[:300]
        else:
            text = f"E2E-OK {model} (no tools)"
        log({"path": self.path, "model": model, "stream": bool(body.get("stream")),
             "roles": [m.get("role") for m in messages], "tools": sorted(map(tool_name, tools)),
             "tool_results": [r[:200] for r in results], "reply": text, "call": call and call[0]})
        finish = "tool_calls" if call else "stop"
        tool_calls = [{"index": 0, "id": "call_e2e_1", "type": "function",
                       "function": {"name": call[0], "arguments": json.dumps(call[1])}}] if call else None
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            if tool_calls:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in tool_calls]
            self.reply_json({"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": model,
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        def send(obj):
            data = ("data: " + (obj if isinstance(obj, str) else json.dumps(obj)) + "\n\n").encode()
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            self.wfile.flush()
        base = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1, "model": model}
        def chunk(delta, finish_reason=None):
            send({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})
        chunk({"role": "assistant", "content": ""})
        if text:
            for i in range(0, len(text), 8):
                chunk({"content": text[i:i + 8]})
        if tool_calls:
            chunk({"tool_calls": tool_calls})
        chunk({}, finish)
        send({**base, "choices": [], "usage": usage})
        send("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reply_json(self, obj):
        out = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

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
