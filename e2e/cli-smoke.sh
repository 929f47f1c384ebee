#!/usr/bin/env bash
# Runs the real Claude Code, Codex and Gemini CLIs (pinned versions, from npm) against PluginProxy, which forwards to a
# fake OpenAI-compatible upstream on loopback: each client dialect is translated to OpenAI chat and back.
# Not part of `dotnet test` (it downloads ~750 MB once into e2e/.cache). Needs node/npm and python3.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cache="$here/.cache"
work="$(mktemp -d)"
proxy_port=18417
fake_port=18455
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$cache"
if [ ! -x "$cache/node_modules/.bin/claude" ]; then
  echo "installing the CLIs into $cache (once)..."
  (cd "$cache" && echo '{"name":"pluginproxy-e2e","private":true}' > package.json && npm install --no-audit --no-fund \
    @google/gemini-cli@0.61.0 @anthropic-ai/claude-code@2.1.197 @openai/codex@0.171.0 >/dev/null) || { echo "npm install failed"; exit 1; }
fi
bin="$cache/node_modules/.bin"

dotnet build "$root/host" -nologo -v quiet >/dev/null || { echo "build failed"; exit 1; }
cat > "$work/config.yaml" <<YAML
port: $proxy_port
api-keys: ["smoke-key"]
auth-dir: "$work/auths"
openai-compatibility:
  - name: fake
    base-url: "http://127.0.0.1:$fake_port/v1"
    api-key-entries: [{api-key: "upstream-key"}]
    models:
      - {name: "fake-up", alias: "gemini-2.5-pro"}
      - {name: "fake-up", alias: "claude-sonnet-4-5"}
      - {name: "fake-up", alias: "gpt-fake"}
YAML
python3 "$here/fake_openai.py" $fake_port &
dotnet "$root/host/bin/Debug/net10.0/PluginProxy.Host.dll" --config "$work/config.yaml" > "$work/proxy.log" 2>&1 &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.2; done

passed=0; failed=0
check() { # name, output
  if grep -q "hi from fake" <<<"$2"; then echo "ok   $1"; passed=$((passed+1)); else echo "FAIL $1"; echo "$2" | tail -5; failed=$((failed+1)); fi
}

mkdir -p "$work/claude"
out=$(HOME="$work/claude" ANTHROPIC_BASE_URL="http://127.0.0.1:$proxy_port" ANTHROPIC_API_KEY=smoke-key CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
  CLAUDE_CODE_MAX_RETRIES=1 timeout 120 "$bin/claude" -p "say hi" --model claude-sonnet-4-5 --output-format json 2>&1)
check "Claude Code (Anthropic Messages, streaming)" "$out"

mkdir -p "$work/codex"
out=$(HOME="$work/codex" SMOKE_KEY=smoke-key timeout 120 "$bin/codex" exec --skip-git-repo-check -c model=gpt-fake -c model_provider=smoke \
  -c "model_providers.smoke={name=\"smoke\",base_url=\"http://127.0.0.1:$proxy_port/v1\",env_key=\"SMOKE_KEY\",wire_api=\"responses\"}" "say hi" </dev/null 2>&1)
check "Codex CLI (OpenAI Responses, streaming)" "$out"

mkdir -p "$work/gemini/.gemini"
echo '{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false},"general":{"disableAutoUpdate":true}}' > "$work/gemini/.gemini/settings.json"
out=$(HOME="$work/gemini" GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$proxy_port" GEMINI_API_KEY=smoke-key GEMINI_CLI_TRUST_WORKSPACE=true \
  timeout 120 "$bin/gemini" -m gemini-2.5-pro -p "say hi" 2>&1)
check "Gemini CLI (Gemini streamGenerateContent)" "$out"

if grep -qE "\[(ERR|WRN)\]" "$work/proxy.log"; then echo "proxy log has warnings or errors:"; grep -E "\[(ERR|WRN)\]" "$work/proxy.log" | head; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
