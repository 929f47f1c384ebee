#!/bin/bash
# Load benchmark: PluginProxy (Release, as shipped: access log on, Information level) beside nginx and a minimal YARP
# forwarder against the perf harness's fake upstream, in one run, through ../shared/perf/run.sh (layout split). Prints
# the harness's report (ratios per round, bg cores per run) for small and 22 KB bodies, then PluginProxy's idle RSS
# with 1,000 openai-compatibility entries.
#
#   bench/load.sh                      # chat + messages (translated), small and large bodies, then chat -> Claude
#                                      # (translated the other way), 3 rounds x 5 s each
#   bench/load.sh --quick              # smoke test
#   PERF=/path/to/perf bench/load.sh   # another copy of the harness
#   any other arguments go to run.sh (e.g. --rounds 5, --dialects "chat messages responses gemini")
#
# Run it on a quiet machine: the harness marks rounds with other load (bg cores > 0.10) as noisy and replaces them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
src=${PERF:-$root/../shared/perf}
[[ -d "$src" ]] || src=/work/shared/perf
work=$(mktemp -d /tmp/pluginproxy-load.XXXXXX)
chmod 755 "$work"   # nginx workers (another user) read the fake upstream's files from here
trap 'rm -rf "$work/sut"' EXIT
cp -r "$src" "$work/perf"   # the shared copy may be read-only; the harness writes next to its files

echo "== building PluginProxy (Release)"
dotnet build -c Release "$root/host/PluginProxy.Host.csproj" -v quiet -nologo > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
dll="$root/host/bin/Release/net10.0/PluginProxy.Host.dll"

mkdir -p "$work/sut/auths"
cp "$here/load/config.yaml" "$work/sut/config.yaml"
sut="dotnet $dll --config $work/sut/config.yaml"
common=(--sut-cmd "$sut" --sut-url http://127.0.0.1:18390 --sut-key sk-bench --sut-name pluginproxy)

quick=0; args=()
for a in "$@"; do [[ "$a" == --quick ]] && quick=1 || args+=("$a"); done
dialects="chat messages"
if (( quick )); then
  "$work/perf/run.sh" "${common[@]}" --quick --dialects "$dialects" "${args[@]}"
else
  echo "== small bodies"
  "$work/perf/run.sh" "${common[@]}" --dialects "$dialects" "${args[@]}"
  echo "== 22 KB agent bodies"
  "$work/perf/run.sh" "${common[@]}" --dialects "$dialects" --body large --paced-dialects chat "${args[@]}"
  echo "== OpenAI client -> Anthropic upstream (translated), small and 22 KB bodies"
  "$work/perf/run.sh" "${common[@]}" --dialects chat --model fake-claude --paced-dialects chat "${args[@]}"
  "$work/perf/run.sh" "${common[@]}" --dialects chat --model fake-claude --body large --paced-dialects chat "${args[@]}"
fi

echo "== idle RSS with 1,000 openai-compatibility entries"
"$here/load/gen-credentials.sh" 1000 "$work/sut/config.yaml"
taskset -c 1 env DOTNET_TC_CallCountingDelayMs=0 dotnet "$dll" --config "$work/sut/config.yaml" > "$work/sut/idle.log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -sf -o /dev/null http://127.0.0.1:18390/healthz 2>/dev/null && break; sleep 0.1; done
curl -s -o /dev/null -H 'Authorization: Bearer sk-bench' -H 'content-type: application/json' \
  --data-binary @"$work/perf/requests/chat.small.json" http://127.0.0.1:18390/v1/chat/completions || true
sleep 2
echo "idle RSS (1,000 entries, after one request): $(awk '/VmRSS/{print $2/1024 " MB"}' /proc/$pid/status)"
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "results: $work/perf/results/"
