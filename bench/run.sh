#!/usr/bin/env bash
# Runs a benchmark against the compiled server with the same set-up as the
# tests (dependencies, build, Postgres and Redis found or started).
#   bash bench/run.sh                      # bench/bench.mjs (npm run bench)
#   bash bench/run.sh bench --quick        # arguments after the name go to the script
#   bash bench/run.sh read-scale           # bench/read-scale.mjs (1,000,000 sagas)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
name="${1:-bench}"
script="bench/${name}.mjs"
if [ ! -f "$ROOT/$script" ]; then
  echo "No benchmark named \"$name\"; choose one of: $(cd "$ROOT/bench" && ls *.mjs | sed 's/\.mjs$//' | tr '\n' ' ')" >&2
  exit 2
fi
ensure_dependencies
ensure_build
ensure_services
step "Benchmark: $name"
exec node "$script" "${@:2}"
