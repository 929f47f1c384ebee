#!/usr/bin/env bash
# Runs the real Claude Code, Codex CLI and Gemini CLI (pinned versions, from npm) against PluginProxy, which forwards
# to fake upstreams on loopback (fake_openai.py, one port): an OpenAI-compatible account (every client dialect is
# translated to OpenAI chat and back) and one API-key account each of the Claude, Gemini and Codex plugins (each client
# passes through to its own provider and is translated to the other two). Each client completes one non-interactive
# prompt with one tool round trip (the fake asks it to read a marker file and answers "E2E-OK <model>" only once the
# file's token comes back in a tool result).
#
# Part of CI (.ci/run). Needs node/npm (only the npm registry is reached), python3, curl and the .NET SDK.
# Prints one line per case, then exactly "N passed, N failed"; exits non-zero on any failure.
#
# Environment:
#   E2E_CACHE           where the CLIs are installed (default e2e/.cache, git-ignored); reused while the pins match
#   E2E_CONFIGURATION   host build configuration (default Release; .ci/run uses Debug, which `dotnet test` just built)
#   E2E_BUILD=0         use the host as already built (.ci/run: `dotnet test` just built it) instead of building
#   E2E_CLIENT_TIMEOUT  hard limit per client run, seconds (default 180)
#   E2E_KEEP=1          keep the temp folder (logs, client outputs) even when everything passed
set -uo pipefail

CLAUDE_CODE_VERSION=2.1.197
CODEX_VERSION=0.171.0
GEMINI_CLI_VERSION=0.61.0

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cache="${E2E_CACHE:-$here/.cache}"
configuration="${E2E_CONFIGURATION:-Release}"
client_timeout="${E2E_CLIENT_TIMEOUT:-180}"
work="$(mktemp -d "${TMPDIR:-/tmp}/pluginproxy-e2e.XXXXXX")"
started=$SECONDS
pids=()
failed_any=0

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$failed_any" -ne 0 ] || [ "${E2E_KEEP:-0}" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'failed_any=1; exit 130' INT TERM

die() { # a setup failure: nothing was tested
  failed_any=1
  echo "e2e setup failed: $*"
  for f in "$work/proxy.log" "$work/fake.err"; do [ -s "$f" ] && { echo "--- $f"; tail -40 "$f"; }; done
  echo "0 passed, 1 failed"
  exit 1
}

# --- the CLIs, installed once per set of pins -------------------------------------------------------------------------
pins="claude-code=$CLAUDE_CODE_VERSION codex=$CODEX_VERSION gemini-cli=$GEMINI_CLI_VERSION"
clis="$cache/clis"
bin="$clis/node_modules/.bin"
if [ "$(cat "$clis/installed" 2>/dev/null)" != "$pins" ] \
   || [ ! -x "$bin/claude" ] || [ ! -x "$bin/codex" ] || [ ! -x "$bin/gemini" ]; then
  echo "installing the CLIs into $clis ($pins)..."
  t0=$SECONDS
  rm -rf "$clis" && mkdir -p "$clis" || die "cannot create $clis"
  echo '{"name":"pluginproxy-e2e-clis","private":true}' > "$clis/package.json"
  (cd "$clis" && timeout 900 npm install --no-audit --no-fund --loglevel=error --no-update-notifier \
      "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION" \
      "@google/gemini-cli@$GEMINI_CLI_VERSION" </dev/null > "$work/npm.log" 2>&1) \
    || { tail -30 "$work/npm.log"; die "npm install failed"; }
  echo "$pins" > "$clis/installed"
  echo "installed in $((SECONDS - t0)) s"
fi

# --- the server and the fake upstream ------------------------------------------------------------------------------
if [ "${E2E_BUILD:-1}" != 0 ]; then
  dotnet build "$root/host" -c "$configuration" -nologo -v quiet > "$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; die "dotnet build host -c $configuration failed"; }
fi
dll="$root/host/bin/$configuration/net10.0/PluginProxy.Host.dll"
[ -f "$dll" ] || die "no $dll (build the host, or leave E2E_BUILD unset)"
for plugin in OpenAICompat Claude Gemini Codex; do
  ls "$(dirname "$dll")/plugins/PluginProxy.Plugins.$plugin"/*.dll > /dev/null 2>&1 \
    || die "no $plugin plugin under $(dirname "$dll")/plugins"
done

ws="$work/ws"                      # the clients' working directory, holding the file their tool call reads
mkdir -p "$ws" "$work/out"
token="marker-$RANDOM$RANDOM$RANDOM"
echo "$token" > "$ws/marker.txt"

python3 "$here/fake_openai.py" "$work/ports" "$work/fake.log" "$ws/marker.txt" "$token" 2> "$work/fake.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r fake_port trap_port < "$work/ports" || die "the fake upstream did not start"

proxy_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/config.yaml" <<YAML
host: 127.0.0.1
port: $proxy_port
api-keys: ["smoke-key"]
auth-dir: "$work/auths"
openai-compatibility:
  - name: fake
    base-url: "http://127.0.0.1:$fake_port/v1"
    api-key-entries: [{api-key: "upstream-key"}]
    models:
      # Claude Code decides its request shape by model name: a non-Claude name and claude-opus-4-8 get
      # mid-conversation system messages (mid-conversation-system-2026-04-07); claude-sonnet-4-5 does not.
      - {name: "up-claude-kimi", alias: "kimi-k2"}
      - {name: "up-claude-opus-4-8", alias: "claude-opus-4-8"}
      - {name: "up-claude-sonnet-4-5", alias: "claude-sonnet-4-5"}
      - {name: "up-codex", alias: "gpt-e2e"}
      - {name: "up-gemini", alias: "gemini-2.5-pro"}
      - {name: "up-gemini-aux", alias: "gemini-2.5-flash"}
      - {name: "up-gemini-aux", alias: "gemini-2.5-flash-lite"}
# One API-key account per provider plugin, each on the same fake (which answers in that provider's own wire format).
claude-api-key:
  - {api-key: "claude-upstream-key", base-url: "http://127.0.0.1:$fake_port", models: [{name: "up-anthropic", alias: "e2e-claude"}]}
gemini-api-key:
  - {api-key: "gemini-upstream-key", base-url: "http://127.0.0.1:$fake_port", models: [{name: "up-gemini-key", alias: "e2e-gemini"}]}
codex-api-key:
  - {api-key: "codex-upstream-key", base-url: "http://127.0.0.1:$fake_port/codex", models: [{name: "up-codex-key", alias: "e2e-codex"}]}
YAML
dotnet "$dll" --config "$work/config.yaml" > "$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$proxy_port/healthz" > "$work/healthz.json" 2>/dev/null && break
  kill -0 "$proxy_pid" 2>/dev/null || die "the server exited during startup"
  sleep 0.2
done
[ -s "$work/healthz.json" ] || die "the server did not answer /healthz within 60 s"
echo "server up on 127.0.0.1:$proxy_port after $((SECONDS - started)) s (fake upstream :$fake_port)"

# --- the clients -----------------------------------------------------------------------------------------------------
# Every client gets a fresh HOME and an outbound proxy that refuses everything (the fake's trap port): only loopback
# is reached directly, and any attempt to reach the internet fails at once and is logged instead of hanging.
passed=0; failed=0
prompt="Read the file marker.txt in the current directory and tell me what it says."

run_client() { # slug, description, upstream model, command... (run in $ws with env from the caller)
  local slug=$1 what=$2 upstream=$3; shift 3
  local out="$work/out/$slug.txt" t0=$SECONDS rc reason
  local home="$work/home/$slug" seen
  mkdir -p "$home"
  seen=$(grep -c '"outbound"' "$work/fake.log" 2>/dev/null)
  (cd "$ws" && timeout -k 10 "$client_timeout" env HOME="$home" XDG_CONFIG_HOME="$home/.config" \
      XDG_CACHE_HOME="$home/.cache" XDG_DATA_HOME="$home/.local/share" XDG_STATE_HOME="$home/.local/state" \
      CI=true NO_COLOR=1 \
      HTTPS_PROXY="http://127.0.0.1:$trap_port" HTTP_PROXY="http://127.0.0.1:$trap_port" \
      https_proxy="http://127.0.0.1:$trap_port" http_proxy="http://127.0.0.1:$trap_port" \
      ALL_PROXY="http://127.0.0.1:$trap_port" NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1" \
      "$@" < /dev/null > "$out" 2>&1)
  rc=$?
  # What this client tried to reach beyond loopback (the trap refused it); worth knowing even when it passed.
  grep '"outbound"' "$work/fake.log" 2>/dev/null | tail -n +$((${seen:-0} + 1)) \
    | sed -E 's/.*"outbound": "([A-Z]+) ([^"]*)".*/\1 \2/' | sort -u > "$work/out/$slug.outbound"
  local note=""
  [ -s "$work/out/$slug.outbound" ] && note="     note: tried to reach (refused): $(tr '\n' ' ' < "$work/out/$slug.outbound")"
  if grep -qF "E2E-OK $upstream" "$out" && ! grep -qF "E2E-OK $upstream (no tools)" "$out"; then
    echo "ok   $what ($((SECONDS - t0)) s)"
    passed=$((passed + 1))
    [ -z "$note" ] || echo "$note"
    return
  fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then reason="timed out after $client_timeout s"
  elif grep -qE 'API Error: [0-9]+' "$out"; then reason="$(grep -oE 'API Error: [0-9]+ ([^"\\]|\\.)*' "$out" | head -1)"
  elif grep -qF "E2E-NO-MARKER $upstream" "$out"; then reason="the tool result did not carry the marker"
  elif grep -qF "E2E-NO-TOOL $upstream" "$out"; then reason="no known tool offered to the fake"
  else reason="exit code $rc, answer text \"E2E-OK $upstream\" missing"; fi
  echo "FAIL $what: $reason"
  [ -z "$note" ] || echo "$note"
  sed 's/^/     | /' "$out" | tail -15
  failed=$((failed + 1))
}

claude_case() { # model, upstream, description
  run_client "claude-$1" "Claude Code $CLAUDE_CODE_VERSION, --model $1 -> /v1/messages -> $3" "$2" \
    ANTHROPIC_BASE_URL="http://127.0.0.1:$proxy_port" ANTHROPIC_API_KEY=smoke-key \
    ANTHROPIC_DEFAULT_HAIKU_MODEL="$1" ANTHROPIC_SMALL_FAST_MODEL="$1" \
    CLAUDE_CONFIG_DIR="$work/home/claude-$1/.claude" \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
    DISABLE_BUG_COMMAND=1 CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL=1 CLAUDE_CODE_ENABLE_TELEMETRY=0 CLAUDE_CODE_MAX_RETRIES=1 \
    "$bin/claude" -p "$prompt" --model "$1" --output-format json --allowedTools Read
}
claude_case kimi-k2 up-claude-kimi "OpenAI-compatible (non-Claude name: mid-conversation system messages)"
claude_case claude-opus-4-8 up-claude-opus-4-8 "OpenAI-compatible (current Claude name: mid-conversation system messages)"
claude_case claude-sonnet-4-5 up-claude-sonnet-4-5 "OpenAI-compatible (older Claude name: system prompt only)"
claude_case e2e-claude up-anthropic "Claude API key (passthrough)"
claude_case e2e-codex up-codex-key "Codex API key (translated to Responses)"
claude_case e2e-gemini up-gemini-key "Gemini API key (translated to Gemini)"

codex_case() { # model, upstream, description
  mkdir -p "$work/home/codex-$1/.codex"
  run_client "codex-$1" "Codex CLI $CODEX_VERSION, model $1 -> /v1/responses (SSE) -> $3" "$2" \
    SMOKE_KEY=smoke-key CODEX_HOME="$work/home/codex-$1/.codex" \
    "$bin/codex" exec --skip-git-repo-check -c model="$1" -c model_provider=smoke \
    -c "model_providers.smoke={name=\"smoke\",base_url=\"http://127.0.0.1:$proxy_port/v1\",env_key=\"SMOKE_KEY\",wire_api=\"responses\"}" \
    -c check_for_update_on_startup=false -c analytics.enabled=false \
    -c features.plugins=false -c features.remote_plugin=false -c features.apps=false "$prompt"
}
codex_case gpt-e2e up-codex "OpenAI-compatible"
codex_case e2e-codex up-codex-key "Codex API key (passthrough)"
codex_case e2e-claude up-anthropic "Claude API key (translated to Messages)"
codex_case e2e-gemini up-gemini-key "Gemini API key (translated to Gemini)"

gemini_case() { # model, upstream, description
  mkdir -p "$work/home/gemini-$1/.gemini"
  cat > "$work/home/gemini-$1/.gemini/settings.json" <<'JSON'
{"security": {"auth": {"selectedType": "gemini-api-key"}},
 "privacy": {"usageStatisticsEnabled": false},
 "telemetry": {"enabled": false},
 "general": {"disableAutoUpdate": true, "disableUpdateNag": true},
 "ide": {"enabled": false}}
JSON
  run_client "gemini-$1" "Gemini CLI $GEMINI_CLI_VERSION, -m $1 -> /v1beta/models/*:streamGenerateContent -> $3" "$2" \
    GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$proxy_port" GEMINI_API_KEY=smoke-key GEMINI_CLI_TRUST_WORKSPACE=true \
    GEMINI_TELEMETRY_ENABLED=false GEMINI_CLI_NO_RELAUNCH=true \
    "$bin/gemini" -m "$1" -p "$prompt"
}
gemini_case gemini-2.5-pro up-gemini "OpenAI-compatible"
gemini_case e2e-gemini up-gemini-key "Gemini API key (passthrough)"
gemini_case e2e-claude up-anthropic "Claude API key (translated to Messages)"
gemini_case e2e-codex up-codex-key "Codex API key (translated to Responses)"

# --- what else the run shows --------------------------------------------------------------------------------------------
if grep -qE "\[(ERR|WRN)\]" "$work/proxy.log"; then
  echo "proxy log has warnings or errors:"
  grep -E "\[(ERR|WRN)\]" "$work/proxy.log" | head -20
fi
if [ "$failed" -ne 0 ]; then
  failed_any=1
  echo "--- proxy log (last 60 lines)"; tail -60 "$work/proxy.log"
  echo "--- upstream requests (fake.log)"; grep -v '"outbound"' "$work/fake.log" 2>/dev/null | tail -30
fi
echo "e2e wall time $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
