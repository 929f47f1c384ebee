#!/bin/bash
# Writes a config like config.yaml with N extra openai-compatibility entries (default 1000), for the memory figure.
n=${1:-1000}; out=${2:-config.1000.yaml}
here=$(cd "$(dirname "$0")" && pwd)
{
  cat "$here/config.yaml"
  for i in $(seq 1 "$n"); do
    printf '  - name: extra%d\n    base-url: "http://127.0.0.1:18090/v1"\n    api-key-entries: [{api-key: "sk-extra-%d"}]\n    models: [{name: m%d, alias: extra-model-%d}]\n' "$i" "$i" "$i" "$i"
  done
} > "$out"
